package chat_test

import (
	"strings"
	"testing"

	"switchboard/chat"
)

func TestValidateUsername(t *testing.T) {
	valid := []string{"bob", "Alice_01", "a-b", strings.Repeat("x", 32), "___"}
	for _, s := range valid {
		if err := chat.ValidateUsername(s); err != nil {
			t.Errorf("ValidateUsername(%q) = %v, want nil", s, err)
		}
	}
	invalid := []string{
		"", "ab", strings.Repeat("x", 33), "bob smith", " bob", "bob!", "<script>",
		"robert'); DROP TABLE users;--", "élodie", "ab\x00c", "名前です",
	}
	for _, s := range invalid {
		err := chat.ValidateUsername(s)
		if chat.ErrorCode(err) != chat.EINVALID {
			t.Errorf("ValidateUsername(%q) = %v, want EINVALID", s, err)
		}
	}
}

func TestValidatePasswordCountsCharactersButCapsBytes(t *testing.T) {
	cases := []struct {
		pw string
		ok bool
	}{
		{"", false},
		{"1234567", false},
		{"12345678", true},
		{"пароль12", true},               // 8 characters, 14 bytes
		{"ééééééé", false},               // 7 characters, 14 bytes
		{strings.Repeat("a", 72), true},  // bcrypt's limit
		{strings.Repeat("a", 73), false}, // would be silently truncated
		{strings.Repeat("é", 37), false}, // 74 bytes
		{"  spaces count  ", true},
	}
	for _, c := range cases {
		err := chat.ValidatePassword(c.pw)
		if (err == nil) != c.ok {
			t.Errorf("ValidatePassword(%q) = %v, want ok=%v", c.pw, err, c.ok)
		}
		if err != nil && chat.ErrorCode(err) != chat.EINVALID {
			t.Errorf("ValidatePassword(%q) code = %q", c.pw, chat.ErrorCode(err))
		}
	}
}

func TestUsernameFromLoginAlwaysValid(t *testing.T) {
	cases := map[string]string{
		"octocat":               "octocat",
		"a":                     "a__",
		"":                      "user",
		"---":                   "user",
		"jöhn.doe":              "j-hn-doe",
		strings.Repeat("x", 39): strings.Repeat("x", 32),
		"Mona-Lisa":             "Mona-Lisa",
	}
	for in, want := range cases {
		got := chat.UsernameFromLogin(in)
		if got != want {
			t.Errorf("UsernameFromLogin(%q) = %q, want %q", in, got, want)
		}
		if err := chat.ValidateUsername(got); err != nil {
			t.Errorf("UsernameFromLogin(%q) = %q is invalid: %v", in, got, err)
		}
	}
}

func TestUsernameCandidatesFitAndDiffer(t *testing.T) {
	got := chat.UsernameCandidates(strings.Repeat("z", 40), 12)
	seen := map[string]bool{}
	for i, name := range got {
		if err := chat.ValidateUsername(name); err != nil {
			t.Errorf("candidate %d %q invalid: %v", i, name, err)
		}
		if seen[name] {
			t.Errorf("candidate %q repeated", name)
		}
		seen[name] = true
	}
	if got[0] != strings.Repeat("z", 32) || got[1] != strings.Repeat("z", 30)+"-2" || got[11] != strings.Repeat("z", 29)+"-12" {
		t.Errorf("candidates = %q", got)
	}
}

func TestCleanName(t *testing.T) {
	if got := chat.CleanName("  The\x00 Octo\ncat \xff "); got != "The Octocat" {
		t.Errorf("CleanName = %q", got)
	}
	long := strings.Repeat("名", 100)
	if got := chat.CleanName(long); got != strings.Repeat("名", chat.NameMaxLen) {
		t.Errorf("CleanName did not cut to %d characters: %d", chat.NameMaxLen, len([]rune(got)))
	}
}

func TestUserDisplayNameAndValidate(t *testing.T) {
	u := &chat.User{Username: "octo"}
	if u.DisplayName() != "octo" {
		t.Errorf("DisplayName without Name = %q", u.DisplayName())
	}
	u.Name = "The Octocat"
	if u.DisplayName() != "The Octocat" {
		t.Errorf("DisplayName = %q", u.DisplayName())
	}
	if err := u.Validate(); err != nil {
		t.Errorf("Validate = %v", err)
	}
	u.Name = "bad\x07bell"
	if chat.ErrorCode(u.Validate()) != chat.EINVALID {
		t.Error("a control character in Name should be invalid")
	}
}
