"""谈心谈话 records and their coverage (issue 17 point 4). Who reads a note: app/forms_/access.py."""
