"""Forms the campaign office designs and people fill on the phone (issue 17): 个人有关事项报告,
自查自纠报告. ``access.py`` is the one home of who may read a submission; ``crypto.py`` keeps
answers and files encrypted at rest; ``definition.py`` knows the field types."""
