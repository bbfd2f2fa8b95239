"""The tray launcher: staff who never use a terminal start bots from an icon by the clock.

Everything but :mod:`framework.tray.app` is free of GUI toolkits and tested as plain code:

* :mod:`~framework.tray.menu` — the menu as data (entries, labels, action ids);
* :mod:`~framework.tray.state` — idle / running / exceptions / failed, the tooltip, notifications;
* :mod:`~framework.tray.launcher` — each run as a child ``rpa run BOT --trigger tray`` process;
* :mod:`~framework.tray.actions` — what each menu entry does (the callbacks the menu calls);
* :mod:`~framework.tray.icons` — the icon of each state, drawn with Pillow;
* :mod:`~framework.tray.notify` — desktop notifications;
* :mod:`~framework.tray.control` — the tray seen from outside: its lock, status file and inbox;
* :mod:`~framework.tray.autostart` — start with Windows (Startup folder) or the Linux desktop;
* :mod:`~framework.tray.dialogs` — the file chooser and, where needed, the popup menu (Tk);
* :mod:`~framework.tray.app` — the only module that imports ``pystray``: icons and wiring.
"""
