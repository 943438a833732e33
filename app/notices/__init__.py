"""In-app notifications: reminders now, announcements with issue #6."""
