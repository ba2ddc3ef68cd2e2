"""The engine: batches, types, the runner, channels, limits, retry and checkpoints."""
