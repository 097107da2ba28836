"""Pulumi components of the gitops project and the pure builders behind them."""
