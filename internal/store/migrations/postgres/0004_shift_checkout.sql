-- What a caregiver records when checking out of a shift, beside the handoff
-- notes for the next caregiver; and an index for the reminder planner, which
-- looks for open shifts by start time across all care recipients.
ALTER TABLE caregiver_shifts ADD COLUMN checkout_notes TEXT;
ALTER TABLE caregiver_shifts ADD COLUMN checkout_location TEXT;
CREATE INDEX caregiver_shifts_open_start_time_idx ON caregiver_shifts (start_time)
    WHERE status IN ('SCHEDULED', 'CONFIRMED');
