package care

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Vitals are measurements taken at one time. Every reading is optional, but
// a record has at least one; readings that come in more than one unit
// (temperature, blood sugar, weight) state theirs.
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

// Empty reports whether no reading is given.
func (v *Vitals) Empty() bool {
	return v.BloodPressure == nil && v.HeartRate == nil && v.RespiratoryRate == nil && v.Temperature == nil &&
		v.OxygenLevel == nil && v.BloodSugar == nil && v.Weight == nil
}

// Check validates the readings and normalises them in place (the blood
// pressure to "sys/dia", units to their canonical spelling). It returns what
// is wrong, in a stable order; none when the vitals can be recorded.
func (v *Vitals) Check() []VitalsProblem {
	var out []VitalsProblem
	add := func(field, reason string) { out = append(out, VitalsProblem{field, reason}) }
	if v.Empty() {
		add("vitals", "must include at least one reading")
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
