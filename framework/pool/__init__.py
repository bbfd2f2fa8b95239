"""Runner pools: bot runs queued in PostgreSQL and taken by ``rpa worker`` on runner PCs.

Built on procrastinate (PostgreSQL queues: row locks, LISTEN/NOTIFY, retries, job locks, worker
heartbeats); procrastinate and psycopg are the ``pool`` extra, imported only when a pool command
runs. The package:

* :mod:`~framework.pool.app` — procrastinate's ``App`` on ``RPA_DATABASE_URL``, and the schema;
* :mod:`~framework.pool.job` — :class:`~framework.pool.job.BotJob`, what a queued run carries;
* :mod:`~framework.pool.enqueue` — putting a run in its bot's queue (``rpa enqueue``, the
  scheduler in distributed mode);
* :mod:`~framework.pool.tasks` — the run-bot task: each job is a child ``rpa run`` process;
* :mod:`~framework.pool.claims` — a scheduled fire time runs once, whichever worker takes it;
* :mod:`~framework.pool.stalled` — jobs of a dead worker go back to the queue;
* :mod:`~framework.pool.workers` — the workers seen, for ``rpa workers``;
* :mod:`~framework.pool.service` — ``rpa worker``: the worker process, its signals and log.

See docs/pool.md.
"""
