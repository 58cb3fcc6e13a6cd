package care

import (
	"encoding/json"
	"reflect"
	"testing"
)

func intp(n int) *int           { return &n }
func floatp(f float64) *float64 { return &f }
func strp(s string) *string     { return &s }
func fields(ps []VitalsProblem) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Field)
	}
	return out
}

func TestVitalsCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		v    Vitals
		// bad lists the fields refused, in order; none when accepted.
		bad []string
	}{
		{"nothing", Vitals{}, []string{"vitals"}},
		{"unit alone is nothing", Vitals{WeightUnit: strp("kg")}, []string{"vitals", "weightUnit"}},
		// heart rate 20–300 bpm
		{"heart rate low edge", Vitals{HeartRate: intp(20)}, nil},
		{"heart rate high edge", Vitals{HeartRate: intp(300)}, nil},
		{"heart rate too low", Vitals{HeartRate: intp(19)}, []string{"heartRate"}},
		{"heart rate too high", Vitals{HeartRate: intp(301)}, []string{"heartRate"}},
		{"heart rate negative", Vitals{HeartRate: intp(-70)}, []string{"heartRate"}},
		// respiratory rate 4–60
		{"respiratory rate", Vitals{RespiratoryRate: intp(16)}, nil},
		{"respiratory rate too high", Vitals{RespiratoryRate: intp(61)}, []string{"respiratoryRate"}},
		// SpO2 50–100 %
		{"oxygen", Vitals{OxygenLevel: floatp(97.5)}, nil},
		{"oxygen edge", Vitals{OxygenLevel: floatp(50)}, nil},
		{"oxygen over 100", Vitals{OxygenLevel: floatp(100.1)}, []string{"oxygenLevel"}},
		{"oxygen too low", Vitals{OxygenLevel: floatp(49.9)}, []string{"oxygenLevel"}},
		// temperature 30–45 °C or 86–113 °F, with a unit
		{"celsius", Vitals{Temperature: floatp(37.2), TemperatureUnit: strp("C")}, nil},
		{"celsius lower case", Vitals{Temperature: floatp(45), TemperatureUnit: strp("c")}, nil},
		{"fahrenheit", Vitals{Temperature: floatp(98.6), TemperatureUnit: strp("F")}, nil},
		{"fahrenheit edge", Vitals{Temperature: floatp(86), TemperatureUnit: strp("F")}, nil},
		{"fahrenheit read as celsius", Vitals{Temperature: floatp(98.6), TemperatureUnit: strp("C")}, []string{"temperature"}},
		{"celsius read as fahrenheit", Vitals{Temperature: floatp(37), TemperatureUnit: strp("F")}, []string{"temperature"}},
		{"celsius too low", Vitals{Temperature: floatp(29.9), TemperatureUnit: strp("C")}, []string{"temperature"}},
		{"fahrenheit too high", Vitals{Temperature: floatp(113.1), TemperatureUnit: strp("F")}, []string{"temperature"}},
		{"temperature without unit", Vitals{Temperature: floatp(37)}, nil},
		{"fahrenheit without unit", Vitals{Temperature: floatp(98.6)}, nil},
		{"implausible temperature without unit", Vitals{Temperature: floatp(60)}, []string{"temperature"}},
		{"kelvin", Vitals{Temperature: floatp(310), TemperatureUnit: strp("K")}, []string{"temperatureUnit"}},
		// blood pressure "sys/dia", sys > dia
		{"blood pressure", Vitals{BloodPressure: strp("120/80")}, nil},
		{"blood pressure spaced", Vitals{BloodPressure: strp(" 135 / 85 ")}, nil},
		{"blood pressure reversed", Vitals{BloodPressure: strp("80/120")}, []string{"bloodPressure"}},
		{"blood pressure equal", Vitals{BloodPressure: strp("90/90")}, []string{"bloodPressure"}},
		{"blood pressure systolic too high", Vitals{BloodPressure: strp("320/80")}, []string{"bloodPressure"}},
		{"blood pressure diastolic too low", Vitals{BloodPressure: strp("120/10")}, []string{"bloodPressure"}},
		{"blood pressure one number", Vitals{BloodPressure: strp("120")}, []string{"bloodPressure"}},
		{"blood pressure words", Vitals{BloodPressure: strp("high")}, []string{"bloodPressure"}},
		{"blood pressure decimals", Vitals{BloodPressure: strp("120.5/80")}, []string{"bloodPressure"}},
		// blood sugar, mg/dL or mmol/L
		{"sugar mg/dL", Vitals{BloodSugar: floatp(110), BloodSugarUnit: strp("mg/dL")}, nil},
		{"sugar mmol/L", Vitals{BloodSugar: floatp(6.1), BloodSugarUnit: strp("mmol/l")}, nil},
		{"sugar mg/dL as mmol/L", Vitals{BloodSugar: floatp(110), BloodSugarUnit: strp("mmol/L")}, []string{"bloodSugar"}},
		{"sugar too low", Vitals{BloodSugar: floatp(5), BloodSugarUnit: strp("mg/dL")}, []string{"bloodSugar"}},
		{"sugar without unit", Vitals{BloodSugar: floatp(110)}, nil},
		// weight, kg or lb
		{"weight kg", Vitals{Weight: floatp(62.5), WeightUnit: strp("kg")}, nil},
		{"weight lbs", Vitals{Weight: floatp(140), WeightUnit: strp("lbs")}, nil},
		{"weight zero", Vitals{Weight: floatp(0), WeightUnit: strp("kg")}, []string{"weight"}},
		{"weight too heavy", Vitals{Weight: floatp(501), WeightUnit: strp("kg")}, []string{"weight"}},
		{"weight stones", Vitals{Weight: floatp(10), WeightUnit: strp("st")}, []string{"weightUnit"}},
		{"weight without unit", Vitals{Weight: floatp(70)}, nil},
		// what clients record with MOOD, ACTIVITY, SLEEP and MEAL entries
		{"mood alone", Vitals{Mood: strp("calm")}, nil},
		{"activity", Vitals{ActivityType: strp("walk"), ActivityDuration: floatp(30)}, nil},
		{"activity too long", Vitals{ActivityDuration: floatp(1441)}, []string{"activityDuration"}},
		{"sleep", Vitals{SleepQuality: strp("good"), SleepDuration: floatp(7.5)}, nil},
		{"negative sleep", Vitals{SleepDuration: floatp(-1)}, []string{"sleepDuration"}},
		// several at once, each reported
		{"all fine", Vitals{BloodPressure: strp("118/76"), HeartRate: intp(64), Temperature: floatp(36.8), TemperatureUnit: strp("C"),
			OxygenLevel: floatp(98), BloodSugar: floatp(5.4), BloodSugarUnit: strp("mmol/L"), Weight: floatp(61), WeightUnit: strp("kg")}, nil},
		{"all wrong", Vitals{BloodPressure: strp("70/90"), HeartRate: intp(400), Temperature: floatp(50), TemperatureUnit: strp("C"),
			OxygenLevel: floatp(120), BloodSugar: floatp(2000), BloodSugarUnit: strp("mg/dL"), Weight: floatp(0.5), WeightUnit: strp("lb")},
			[]string{"bloodPressure", "heartRate", "oxygenLevel", "temperature", "bloodSugar", "weight"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := tc.v
			got := v.Check()
			want := tc.bad
			if want == nil {
				want = []string{}
			}
			if !reflect.DeepEqual(fields(got), want) {
				t.Errorf("refused %v, want %v (%+v)", fields(got), want, got)
			}
			for _, p := range got {
				if p.Reason == "" {
					t.Errorf("%s refused without a reason", p.Field)
				}
			}
		})
	}
}

func TestVitalsCheckNormalises(t *testing.T) {
	t.Parallel()
	v := Vitals{BloodPressure: strp(" 135 / 085"), Temperature: floatp(98.6), TemperatureUnit: strp("f"),
		BloodSugar: floatp(6), BloodSugarUnit: strp("MMOL/L"), Weight: floatp(150), WeightUnit: strp("lbs")}
	if ps := v.Check(); len(ps) != 0 {
		t.Fatalf("refused: %+v", ps)
	}
	if *v.BloodPressure != "135/85" || *v.TemperatureUnit != "F" || *v.BloodSugarUnit != "mmol/L" || *v.WeightUnit != "lb" {
		t.Errorf("not normalised: %s %s %s %s", *v.BloodPressure, *v.TemperatureUnit, *v.BloodSugarUnit, *v.WeightUnit)
	}
}

func TestVitalsOpenRecord(t *testing.T) {
	t.Parallel()
	var v Vitals
	in := `{"bloodPressure":"120/80","heartRate":72,"temperature":98.6,"weight":150,"bloodSugar":110,` +
		`"mealType":"lunch","mealDescription":"soup","device":{"model":"X1"},"steps":4200}`
	if err := json.Unmarshal([]byte(in), &v); err != nil {
		t.Fatal(err)
	}
	if ps := v.Check(); len(ps) != 0 {
		t.Fatalf("refused: %+v", ps)
	}
	if *v.TemperatureUnit != "F" || *v.WeightUnit != DefaultWeightUnit || *v.BloodSugarUnit != DefaultBloodSugarUnit {
		t.Errorf("default units: %s %s %s", *v.TemperatureUnit, *v.WeightUnit, *v.BloodSugarUnit)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back["steps"] != 4200.0 || back["device"].(map[string]any)["model"] != "X1" || back["mealType"] != "lunch" ||
		back["heartRate"] != 72.0 || back["temperatureUnit"] != "F" {
		t.Errorf("round trip = %s", out)
	}
	// Wrong types of known fields are all reported.
	var bad Vitals
	if err := json.Unmarshal([]byte(`{"heartRate":"fast","mood":3,"sleepDuration":"long"}`), &bad); err != nil {
		t.Fatal(err)
	}
	if got := fields(bad.Check()); !reflect.DeepEqual(got, []string{"heartRate", "mood", "sleepDuration"}) {
		t.Errorf("type problems = %v", got)
	}
	if err := json.Unmarshal([]byte(`[1]`), &bad); err == nil {
		t.Error("an array decoded as vitals")
	}
}
