"""Metrics of a server (design doc §6.6, §7.1): samples of each run's counters recorded
while it goes (`recorder`), series and totals over a time range, system and worker
figures (`queries`)."""
