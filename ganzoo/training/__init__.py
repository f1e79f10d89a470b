"""The training loop and everything it owns: settings, phases, checkpoints, the run folder, inference."""
