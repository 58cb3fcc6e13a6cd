-- A family's description, as existing clients send it when they create one.
ALTER TABLE families ADD COLUMN description TEXT;
