-- What the document-upload job learns about a file (a thumbnail for images,
-- the page count of a PDF, why it failed), and the cleaned name it was
-- uploaded under, which downloads offer. Lists show a family's newest first.
ALTER TABLE documents ADD COLUMN filename TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN thumbnail_key TEXT;
ALTER TABLE documents ADD COLUMN page_count INTEGER;
ALTER TABLE documents ADD COLUMN failure_reason TEXT;
CREATE INDEX documents_family_created_at_idx ON documents (family_id, created_at);
