"""Campaign stages, tasks (规定动作/自选动作), proofs and review (issue #6)."""
