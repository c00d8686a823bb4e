-- A project's IP allow list for public connections, as JSON: [{"entry": "203.0.113.0/24",
-- "note": "office", "expires_at": null}, …]. At most 100 entries (checked by the service);
-- written whole, under the organization's lock, like the other network settings.
ALTER TABLE projects ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '[]';
