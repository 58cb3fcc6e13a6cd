package mail

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
)

// DefaultLanguage is the language every template exists in, and the one
// used when the recipient's has no translation.
const DefaultLanguage = "en"

// ErrUnknownTemplate is returned when asked for a template that does not
// exist in the default language.
var ErrUnknownTemplate = errors.New("mail: unknown email template")

//go:embed templates
var embedded embed.FS

// Templates are the emails CareCircle sends, per language. A language is a
// directory holding, for each email, <name>.subject, <name>.txt and
// <name>.html (the body fragment placed in layout.txt and layout.html).
type Templates struct {
	langs map[string]map[string]*templateSet // language → name → set
}

// templateSet is one email in one language, parsed.
type templateSet struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// NewTemplates parses every template under fsys, one directory per
// language; DefaultLanguage must be among them. A language may translate
// only some emails, but each one it has must be complete; a missing layout
// is taken from DefaultLanguage.
func NewTemplates(fsys fs.FS) (*Templates, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("mail: templates: %w", err)
	}
	t := &Templates{langs: map[string]map[string]*templateSet{}}
	readLayout := func(lang, file string) (string, error) {
		b, err := fs.ReadFile(fsys, path.Join(lang, file))
		if errors.Is(err, fs.ErrNotExist) && lang != DefaultLanguage {
			b, err = fs.ReadFile(fsys, path.Join(DefaultLanguage, file))
		}
		return string(b), err
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		lang := d.Name()
		textLayout, err := readLayout(lang, "layout.txt")
		if err != nil {
			return nil, fmt.Errorf("mail: templates %s: %w", lang, err)
		}
		htmlLayout, err := readLayout(lang, "layout.html")
		if err != nil {
			return nil, fmt.Errorf("mail: templates %s: %w", lang, err)
		}
		subjects, err := fs.Glob(fsys, path.Join(lang, "*.subject"))
		if err != nil {
			return nil, fmt.Errorf("mail: templates %s: %w", lang, err)
		}
		sets := map[string]*templateSet{}
		for _, s := range subjects {
			name := strings.TrimSuffix(path.Base(s), ".subject")
			set, err := parseSet(fsys, lang, name, textLayout, htmlLayout)
			if err != nil {
				return nil, fmt.Errorf("mail: template %s/%s: %w", lang, name, err)
			}
			sets[name] = set
		}
		t.langs[lang] = sets
	}
	if len(t.langs[DefaultLanguage]) == 0 {
		return nil, fmt.Errorf("mail: templates: no %q templates", DefaultLanguage)
	}
	return t, nil
}

func parseSet(fsys fs.FS, lang, name, textLayout, htmlLayout string) (*templateSet, error) {
	read := func(ext string) (string, error) {
		b, err := fs.ReadFile(fsys, path.Join(lang, name+ext))
		return string(b), err
	}
	subject, err := read(".subject")
	if err != nil {
		return nil, err
	}
	text, err := read(".txt")
	if err != nil {
		return nil, err
	}
	html, err := read(".html")
	if err != nil {
		return nil, err
	}
	funcs := templateFuncs(lang)
	set := &templateSet{}
	if set.subject, err = texttemplate.New("subject").Funcs(funcs).Option("missingkey=error").Parse(strings.TrimSpace(subject)); err != nil {
		return nil, err
	}
	if set.text, err = texttemplate.New("layout").Funcs(funcs).Option("missingkey=error").Parse(textLayout); err != nil {
		return nil, fmt.Errorf("layout.txt: %w", err)
	}
	if _, err = set.text.New("content").Parse(text); err != nil {
		return nil, err
	}
	if set.html, err = htmltemplate.New("layout").Funcs(funcs).Option("missingkey=error").Parse(htmlLayout); err != nil {
		return nil, fmt.Errorf("layout.html: %w", err)
	}
	if _, err = set.html.New("content").Parse(html); err != nil {
		return nil, err
	}
	return set, nil
}

// templateFuncs are the helpers templates may call. Dates are spelled the
// English way; a translation brings its own formats when one is added.
func templateFuncs(lang string) map[string]any {
	return map[string]any{
		"lang":     func() string { return lang },
		"lower":    strings.ToLower,
		"datetime": func(t time.Time) string { return t.Format("Monday, January 2, 2006 at 3:04 PM MST") },
		"date":     func(t time.Time) string { return t.Format("January 2, 2006") },
		"time":     func(t time.Time) string { return t.Format("3:04 PM") },
		"duration": humanDuration,
	}
}

// Names lists the templates of the default language, sorted.
func (t *Templates) Names() []string {
	names := make([]string, 0, len(t.langs[DefaultLanguage]))
	for name := range t.langs[DefaultLanguage] {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Render fills template name with data in language lang ("fr", "fr-CA";
// the base language, then DefaultLanguage, stand in for a missing
// translation). The message has no recipient yet.
func (t *Templates) Render(name, lang string, data any) (Message, error) {
	set, ok := t.lookup(name, lang)
	if !ok {
		return Message{}, fmt.Errorf("%w: %q", ErrUnknownTemplate, name)
	}
	var subject, text, html bytes.Buffer
	if err := set.subject.Execute(&subject, data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s subject: %w", name, err)
	}
	if err := set.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s text: %w", name, err)
	}
	if err := set.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: render %s html: %w", name, err)
	}
	return Message{
		Subject:  singleLineHeader(subject.String()),
		Text:     text.String(),
		HTML:     html.String(),
		Template: name,
	}, nil
}

func (t *Templates) lookup(name, lang string) (*templateSet, bool) {
	lang = strings.ToLower(strings.ReplaceAll(lang, "_", "-"))
	base, _, _ := strings.Cut(lang, "-")
	for _, l := range []string{lang, base, DefaultLanguage} {
		if set, ok := t.langs[l][name]; ok {
			return set, true
		}
	}
	return nil, false
}

// builtin parses the embedded templates once; they are checked by the tests,
// so failing to parse them is a build defect.
var builtin = sync.OnceValues(func() (*Templates, error) {
	sub, err := fs.Sub(embedded, "templates")
	if err != nil {
		return nil, err
	}
	return NewTemplates(sub)
})

// BuiltinTemplates returns the templates embedded in the binary.
func BuiltinTemplates() (*Templates, error) { return builtin() }

// Render fills the embedded template name with data in language lang; see
// Templates.Render.
func Render(name, lang string, data any) (Message, error) {
	t, err := builtin()
	if err != nil {
		return Message{}, err
	}
	return t.Render(name, lang, data)
}

// mustRender renders an embedded template for the message builders whose
// signatures predate templates and return no error. The templates and the
// data types are fixed at build time and the tests render each one, so a
// failure here is a programming error.
func mustRender(name string, data any) Message {
	m, err := Render(name, DefaultLanguage, data)
	if err != nil {
		panic(err)
	}
	return m
}
