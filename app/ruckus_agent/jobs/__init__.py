"""Jobs: queue and concurrency, worker process, multi-run runner, statistics, task types."""
