"""Sweeps: a grid of runs (submissions x folds x seeds) launched locally or on Slurm, recorded by one writer."""
