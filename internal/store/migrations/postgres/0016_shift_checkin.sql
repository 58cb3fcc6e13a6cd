-- What a caregiver records when checking in to a shift, as existing clients
-- send it: notes and where they are.
ALTER TABLE caregiver_shifts ADD COLUMN checkin_notes TEXT;
ALTER TABLE caregiver_shifts ADD COLUMN checkin_location TEXT;
