package care

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Vitals are measurements taken at one time, as an open record: the
// readings below are checked, what existing clients record with MOOD, MEAL,
// SLEEP and ACTIVITY entries is typed, and any other field is kept as
// given. Readings that come in more than one unit (temperature, blood
// sugar, weight) state theirs or get a default (see Check).
type Vitals struct {
	// BloodPressure is "systolic/diastolic" in mmHg, such as "120/80".
	BloodPressure *string `json:"bloodPressure,omitempty"`
	// HeartRate is in beats per minute.
	HeartRate *int `json:"heartRate,omitempty"`
	// RespiratoryRate is in breaths per minute.
	RespiratoryRate *int     `json:"respiratoryRate,omitempty"`
	Temperature     *float64 `json:"temperature,omitempty"`
	// TemperatureUnit is "C" or "F".
	TemperatureUnit *string `json:"temperatureUnit,omitempty"`
	// OxygenLevel is the blood oxygen saturation (SpO2) in percent.
	OxygenLevel *float64 `json:"oxygenLevel,omitempty"`
	BloodSugar  *float64 `json:"bloodSugar,omitempty"`
	// BloodSugarUnit is "mg/dL" or "mmol/L".
	BloodSugarUnit *string  `json:"bloodSugarUnit,omitempty"`
	Weight         *float64 `json:"weight,omitempty"`
	// WeightUnit is "kg" or "lb".
	WeightUnit *string `json:"weightUnit,omitempty"`

	// Mood is how the person seemed (a MOOD entry), such as "calm".
	Mood *string `json:"mood,omitempty"`
	// ActivityType and ActivityDuration (minutes) describe an ACTIVITY.
	ActivityType     *string  `json:"activityType,omitempty"`
	ActivityDuration *float64 `json:"activityDuration,omitempty"`
	// SleepQuality and SleepDuration (hours) describe a night's SLEEP.
	SleepQuality  *string  `json:"sleepQuality,omitempty"`
	SleepDuration *float64 `json:"sleepDuration,omitempty"`
	// MealType ("breakfast", …) and MealDescription describe a MEAL.
	MealType        *string `json:"mealType,omitempty"`
	MealDescription *string `json:"mealDescription,omitempty"`

	// Extra holds the other fields, kept as given.
	Extra map[string]json.RawMessage `json:"-"`
	// typeProblems are the known fields given with the wrong JSON type.
	typeProblems []VitalsProblem
}

// Bounds of the open part of vitals.
const (
	MaxVitalsExtraFields = 50
	maxVitalsTextLen     = 2000
	maxActivityMinutes   = 24 * 60
	maxSleepHours        = 24
)

// vitalsFields are the known fields: their JSON names and how to decode each.
func (v *Vitals) vitalsFields() map[string]any {
	return map[string]any{
		"bloodPressure": &v.BloodPressure, "heartRate": &v.HeartRate, "respiratoryRate": &v.RespiratoryRate,
		"temperature": &v.Temperature, "temperatureUnit": &v.TemperatureUnit, "oxygenLevel": &v.OxygenLevel,
		"bloodSugar": &v.BloodSugar, "bloodSugarUnit": &v.BloodSugarUnit, "weight": &v.Weight, "weightUnit": &v.WeightUnit,
		"mood": &v.Mood, "activityType": &v.ActivityType, "activityDuration": &v.ActivityDuration,
		"sleepQuality": &v.SleepQuality, "sleepDuration": &v.SleepDuration, "mealType": &v.MealType,
		"mealDescription": &v.MealDescription,
	}
}

// UnmarshalJSON reads an object: known fields into their types (a wrong
// type is reported by Check, not here, so that every problem is told at
// once), the others into Extra.
func (v *Vitals) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*v = Vitals{}
	known := v.vitalsFields()
	for _, k := range sortedKeys(raw) {
		val := raw[k]
		dst, ok := known[k]
		if !ok {
			if v.Extra == nil {
				v.Extra = map[string]json.RawMessage{}
			}
			v.Extra[k] = val
			continue
		}
		// Into a fresh value, so that a wrong type leaves the field unset.
		fresh := reflect.New(reflect.TypeOf(dst).Elem())
		if err := json.Unmarshal(val, fresh.Interface()); err != nil {
			v.typeProblems = append(v.typeProblems, VitalsProblem{k, "must be " + vitalsKind(k)})
			continue
		}
		reflect.ValueOf(dst).Elem().Set(fresh.Elem())
	}
	return nil
}

// MarshalJSON writes the known fields and Extra as one object.
func (v Vitals) MarshalJSON() ([]byte, error) {
	type plain Vitals
	b, err := json.Marshal(plain(v))
	if err != nil || len(v.Extra) == 0 {
		return b, err
	}
	all := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, val := range v.Extra {
		if _, ok := all[k]; !ok {
			all[k] = val
		}
	}
	return json.Marshal(all)
}

func vitalsKind(field string) string {
	switch field {
	case "bloodPressure", "temperatureUnit", "bloodSugarUnit", "weightUnit", "mood", "activityType",
		"sleepQuality", "mealType", "mealDescription":
		return "a string"
	case "heartRate", "respiratoryRate":
		return "a whole number"
	}
	return "a number"
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Plausible ranges of the readings. A value outside them is a typing mistake
// (or a broken device), not a measurement: it is refused rather than
// recorded and charted.
const (
	MinHeartRate, MaxHeartRate             = 20, 300
	MinRespiratoryRate, MaxRespiratoryRate = 4, 60
	MinOxygenLevel, MaxOxygenLevel         = 50, 100
	MinSystolic, MaxSystolic               = 50, 300
	MinDiastolic, MaxDiastolic             = 20, 200
)

// unitRange is the plausible range of a reading in one unit.
type unitRange struct {
	unit     string
	min, max float64
}

// Units and ranges of the readings that have several.
var (
	temperatureRanges = []unitRange{{"C", 30, 45}, {"F", 86, 113}}
	bloodSugarRanges  = []unitRange{{"mg/dL", 10, 1000}, {"mmol/L", 0.5, 55}}
	weightRanges      = []unitRange{{"kg", 0.5, 500}, {"lb", 1, 1100}}
)

// VitalsProblem is one reading that is missing its unit, malformed or out of
// range. Field is the reading's JSON name.
type VitalsProblem struct {
	Field  string
	Reason string
}

var bloodPressurePattern = regexp.MustCompile(`^\s*(\d{2,3})\s*/\s*(\d{2,3})\s*$`)

// Empty reports whether nothing is recorded: no reading, none of the
// clients' fields, nothing else.
func (v *Vitals) Empty() bool {
	return v.BloodPressure == nil && v.HeartRate == nil && v.RespiratoryRate == nil && v.Temperature == nil &&
		v.OxygenLevel == nil && v.BloodSugar == nil && v.Weight == nil && v.Mood == nil &&
		v.ActivityType == nil && v.ActivityDuration == nil && v.SleepQuality == nil && v.SleepDuration == nil &&
		v.MealType == nil && v.MealDescription == nil && len(v.Extra) == 0 && len(v.typeProblems) == 0
}

// Default units of readings given without one, as existing clients send
// them (their forms ask for °F, mg/dL and lbs). A temperature without a
// unit is Celsius when it is a plausible Celsius reading (up to 45),
// Fahrenheit otherwise.
const (
	DefaultBloodSugarUnit = "mg/dL"
	DefaultWeightUnit     = "lb"
)

// Check validates the readings and normalises them in place (the blood
// pressure to "sys/dia", units to their canonical spelling). It returns what
// is wrong, in a stable order; none when the vitals can be recorded.
func (v *Vitals) Check() []VitalsProblem {
	var out []VitalsProblem
	add := func(field, reason string) { out = append(out, VitalsProblem{field, reason}) }
	if v.Empty() {
		add("vitals", "must include at least one reading")
	}
	out = append(out, v.typeProblems...)
	if len(v.Extra) > MaxVitalsExtraFields {
		add("vitals", fmt.Sprintf("must have at most %d fields besides the known readings", MaxVitalsExtraFields))
	}
	v.defaultUnits()
	for _, t := range []struct {
		field string
		v     **string
	}{{"mood", &v.Mood}, {"activityType", &v.ActivityType}, {"sleepQuality", &v.SleepQuality},
		{"mealType", &v.MealType}, {"mealDescription", &v.MealDescription}} {
		if *t.v != nil && len(**t.v) > maxVitalsTextLen {
			add(t.field, fmt.Sprintf("must be at most %d characters", maxVitalsTextLen))
		}
	}
	if v.ActivityDuration != nil && (*v.ActivityDuration < 0 || *v.ActivityDuration > maxActivityMinutes) {
		add("activityDuration", fmt.Sprintf("must be from 0 to %d minutes", maxActivityMinutes))
	}
	if v.SleepDuration != nil && (*v.SleepDuration < 0 || *v.SleepDuration > maxSleepHours) {
		add("sleepDuration", fmt.Sprintf("must be from 0 to %d hours", maxSleepHours))
	}
	if v.BloodPressure != nil {
		if bp, why := checkBloodPressure(*v.BloodPressure); why != "" {
			add("bloodPressure", why)
		} else {
			v.BloodPressure = &bp
		}
	}
	if v.HeartRate != nil && (*v.HeartRate < MinHeartRate || *v.HeartRate > MaxHeartRate) {
		add("heartRate", fmt.Sprintf("must be from %d to %d beats per minute", MinHeartRate, MaxHeartRate))
	}
	if v.RespiratoryRate != nil && (*v.RespiratoryRate < MinRespiratoryRate || *v.RespiratoryRate > MaxRespiratoryRate) {
		add("respiratoryRate", fmt.Sprintf("must be from %d to %d breaths per minute", MinRespiratoryRate, MaxRespiratoryRate))
	}
	if v.OxygenLevel != nil && (*v.OxygenLevel < MinOxygenLevel || *v.OxygenLevel > MaxOxygenLevel) {
		add("oxygenLevel", fmt.Sprintf("must be from %d to %d percent", MinOxygenLevel, MaxOxygenLevel))
	}
	checkUnitReading(add, "temperature", v.Temperature, &v.TemperatureUnit, temperatureRanges)
	checkUnitReading(add, "bloodSugar", v.BloodSugar, &v.BloodSugarUnit, bloodSugarRanges)
	checkUnitReading(add, "weight", v.Weight, &v.WeightUnit, weightRanges)
	return out
}

// defaultUnits gives readings without a unit the default one.
func (v *Vitals) defaultUnits() {
	unit := func(u string) *string { return &u }
	if v.Temperature != nil && v.TemperatureUnit == nil {
		if *v.Temperature <= 45 {
			v.TemperatureUnit = unit("C")
		} else {
			v.TemperatureUnit = unit("F")
		}
	}
	if v.BloodSugar != nil && v.BloodSugarUnit == nil {
		v.BloodSugarUnit = unit(DefaultBloodSugarUnit)
	}
	if v.Weight != nil && v.WeightUnit == nil {
		v.WeightUnit = unit(DefaultWeightUnit)
	}
}

// checkBloodPressure reads "sys/dia" and returns it normalised, or why it is
// not acceptable.
func checkBloodPressure(s string) (string, string) {
	m := bloodPressurePattern.FindStringSubmatch(s)
	if m == nil {
		return "", `must be "systolic/diastolic" in mmHg, such as "120/80"`
	}
	sys, _ := strconv.Atoi(m[1])
	dia, _ := strconv.Atoi(m[2])
	switch {
	case sys < MinSystolic || sys > MaxSystolic:
		return "", fmt.Sprintf("systolic must be from %d to %d mmHg", MinSystolic, MaxSystolic)
	case dia < MinDiastolic || dia > MaxDiastolic:
		return "", fmt.Sprintf("diastolic must be from %d to %d mmHg", MinDiastolic, MaxDiastolic)
	case sys <= dia:
		return "", "systolic must be higher than diastolic"
	}
	return strconv.Itoa(sys) + "/" + strconv.Itoa(dia), ""
}

// checkUnitReading checks a reading that states its unit (field+"Unit"):
// the unit must be one of ranges (any letter case) and the value within
// that unit's range. The unit is rewritten in its canonical spelling.
func checkUnitReading(add func(field, reason string), field string, value *float64, unit **string, ranges []unitRange) {
	unitField := field + "Unit"
	names := make([]string, len(ranges))
	for i, r := range ranges {
		names[i] = r.unit
	}
	if value == nil {
		if *unit != nil {
			add(unitField, "is only allowed with "+field)
		}
		return
	}
	if *unit == nil {
		add(unitField, "is required with "+field+": one of "+strings.Join(names, ", "))
		return
	}
	given := strings.TrimSpace(**unit)
	if given == "lbs" {
		given = "lb"
	}
	for _, r := range ranges {
		if !strings.EqualFold(given, r.unit) {
			continue
		}
		canonical := r.unit
		*unit = &canonical
		if *value < r.min || *value > r.max {
			add(field, fmt.Sprintf("must be from %s to %s %s", formatReading(r.min), formatReading(r.max), r.unit))
		}
		return
	}
	add(unitField, "must be one of "+strings.Join(names, ", "))
}

func formatReading(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
