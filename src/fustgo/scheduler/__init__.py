"""The scheduler (design doc §5.4): cron with a time zone, one-shot times, dependencies
between jobs, webhook triggers; per-job overlap, timeout, retry and missed-run policies.

`settings.Scheduling` is a job's `scheduling`; `cron` the due times; `graph` the
dependency checks made when a job is saved; `core.Scheduler` fires runs into a pool that
implements `protocol.Runs` (the server's `RunManager`).
"""
