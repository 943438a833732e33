"""Theory study and the four education modules, with credited learning time (issue #3)."""
