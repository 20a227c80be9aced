"""Model stage: train/evaluate rating and ranking models; recommend for users and titles."""
