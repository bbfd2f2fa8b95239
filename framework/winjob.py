"""Windows: a child process that dies with the process that started it (a job object).

Linux has ``PR_SET_PDEATHSIG`` (:mod:`framework.childrun`); Windows has *job objects*. The child
is put in a job created with ``JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE``, whose only handle belongs to
this process: when this process ends, however it ends (killed in Task Manager, the PC's power
button aside), Windows closes the handle and ends every process in the job — the bot's
``rpa run`` and the browser it started. A pool worker relies on it: a worker killed mid-job must
not leave its bot registering applications while the job is retried on another PC.

Only :func:`kill_with_parent` is public; it does nothing on other platforms.
"""

from __future__ import annotations

import subprocess
import sys
import weakref

JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9


def kill_with_parent(proc: subprocess.Popen[bytes]) -> bool:
    """Tie ``proc`` (and the processes it starts) to this process's life; True when done.

    The job's handle is closed when ``proc`` is garbage collected, after the child has ended
    (closing it earlier would end the child). Failures (a policy that forbids nested jobs on old
    Windows) are reported as False: the run goes on, as it would without a job.
    """
    if sys.platform != "win32":
        return False
    import ctypes
    from ctypes import wintypes

    class IoCounters(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_ulonglong)
            for name in (
                "ReadOperationCount",
                "WriteOperationCount",
                "OtherOperationCount",
                "ReadTransferCount",
                "WriteTransferCount",
                "OtherTransferCount",
            )
        ]

    class BasicLimits(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_longlong),
            ("PerJobUserTimeLimit", ctypes.c_longlong),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class ExtendedLimits(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", BasicLimits),
            ("IoInfo", IoCounters),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [wintypes.LPVOID, wintypes.LPCWSTR]
    kernel32.SetInformationJobObject.argtypes = [
        wintypes.HANDLE,
        ctypes.c_int,
        wintypes.LPVOID,
        wintypes.DWORD,
    ]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]

    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return False
    limits = ExtendedLimits()
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    configured = kernel32.SetInformationJobObject(
        job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(limits), ctypes.sizeof(limits)
    )
    handle = int(getattr(proc, "_handle", 0))
    if not configured or not handle or not kernel32.AssignProcessToJobObject(job, handle):
        kernel32.CloseHandle(job)
        return False
    weakref.finalize(proc, kernel32.CloseHandle, job)
    return True
