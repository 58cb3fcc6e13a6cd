package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestSettingsFirstWriterWins(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		if _, ok, err := s.Setting(ctx, "k"); ok || err != nil {
			t.Fatalf("unset setting: %v %v", ok, err)
		}
		var wg sync.WaitGroup
		kept := make([]string, 8)
		for i := range kept {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.PutSettingIfAbsent(ctx, "k", string(rune('a'+i)))
				if err != nil {
					t.Error(err)
				}
				kept[i] = v
			}()
		}
		wg.Wait()
		for _, v := range kept {
			if v != kept[0] {
				t.Fatalf("writers disagree: %v", kept)
			}
		}
		if v, ok, _ := s.Setting(ctx, "k"); !ok || v != kept[0] {
			t.Fatalf("stored %q, kept %q", v, kept[0])
		}
	})
}
