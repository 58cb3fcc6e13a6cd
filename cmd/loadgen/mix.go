package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/loadmix"
)

// targetList is -target given once or more.
type targetList []string

func (l *targetList) String() string { return strings.Join(*l, ",") }

func (l *targetList) Set(v string) error {
	*l = append(*l, strings.TrimRight(v, "/"))
	return nil
}

// runMix signs o.users people up through the first target, each with a
// family, a care recipient and an as-needed medication, then drives the
// loadmix across every target for o.duration and reports what it saw.
func runMix(ctx context.Context, o options, out io.Writer) error {
	c := &client{base: o.target + o.prefix, http: &http.Client{Timeout: 30 * time.Second}}
	stamp := time.Now().UnixNano()
	var users []loadmix.User
	for i := range max(o.users, 1) {
		email := fmt.Sprintf("mix-%d-%d@example.com", stamp, i)
		token, err := c.signUpAs(ctx, o.outbox, email)
		if err != nil {
			return fmt.Errorf("sign up: %w", err)
		}
		var fam, cr, med struct{ ID string }
		if err := c.call(ctx, "POST", "/families", token, map[string]any{"name": fmt.Sprintf("Mix family %d", i+1)}, &fam); err != nil {
			return fmt.Errorf("create family: %w", err)
		}
		if err := c.call(ctx, "POST", "/families/"+fam.ID+"/care-recipients", token, map[string]any{"fullName": "Mix Recipient", "timezone": "UTC"}, &cr); err != nil {
			return fmt.Errorf("create care recipient: %w", err)
		}
		if err := c.call(ctx, "POST", "/care-recipients/"+cr.ID+"/medications", token, map[string]any{
			"name": "Paracetamol", "dosage": "500 mg", "form": "TABLET", "frequency": "AS_NEEDED",
		}, &med); err != nil {
			return fmt.Errorf("create medication: %w", err)
		}
		users = append(users, loadmix.User{Email: email, Password: loadPassword, FamilyID: fam.ID, CareRecipientID: cr.ID, MedicationID: med.ID})
	}
	res, err := loadmix.Run(ctx, loadmix.Options{Targets: o.targets, Prefix: o.prefix, Users: users, Workers: int(o.workers),
		Duration: o.duration, Think: o.think, Failover: true})
	if err != nil {
		return err
	}
	all := res.Summarize(nil)
	secs := res.Done.Sub(res.Started).Seconds()
	if o.format == "markdown" {
		fmt.Fprintf(out, "| %s | mix | %d | %d | %.0f | %.2f | %.2f | %.2f | %d | %d |\n", o.label, o.workers, all.Requests, float64(all.Requests)/secs,
			ms(all.P50), ms(all.P99), ms(all.Max), all.ServerErrors, all.NoAnswer)
	} else {
		fmt.Fprintf(out, "%s scenario=mix workers=%d throughput=%.0f/s %s\n", o.label, o.workers, float64(all.Requests)/secs, all)
		for i, target := range o.targets {
			fmt.Fprintf(out, "  %s: %s\n", target, res.Summarize(func(r loadmix.Record) bool { return r.Target == i }))
		}
		for i, r := range res.ServerErrors() {
			if i == 10 {
				fmt.Fprintf(out, "  … %d more 5xx\n", len(res.ServerErrors())-i)
				break
			}
			fmt.Fprintf(out, "  %s %s on %s answered %d\n", r.Start.Format("15:04:05.000"), r.Op, o.targets[r.Target], r.Status)
		}
	}
	if all.ServerErrors > 0 {
		return fmt.Errorf("%d of %d requests answered 5xx", all.ServerErrors, all.Requests)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
