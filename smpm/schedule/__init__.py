"""The scheduler: `smpm schedule`, and inside `smpm serve` when `[schedule] enabled = true`.

- `config`: the `[schedule]` settings and their validation.
- `cron`: crontab expressions as crontab means them, on APScheduler 3.
- `periods`: which scheduled periods of a job are owed, claimed and done (smpm's own store).
- `runner`: runs a job's owed period through the same path as `smpm run` / `smpm review`.
- `lock`: exactly one active scheduler per store.
- `service`: APScheduler with its persistent job store, started and stopped as one piece.
"""
