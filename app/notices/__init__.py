"""In-app notifications: reminders, and announcements with read receipts (issue #6)."""
