package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestErrors runs bad command lines and bad inputs in testdata/captures and
// checks the exit code and every stderr line (run time masked as "T").
func TestErrors(t *testing.T) {
	t.Chdir(capturesDir)
	notCapture := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notCapture, []byte("INVITE sip:bob@example.com SIP/2.0\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noFiles := "sipflow: 0 files, 0 frames, 0 SIP messages (0 broken), 0 calls, 0 duplicates dropped, 0 TLS flows not read (encrypted), T"
	basic := "sipflow: 1 file, 231 frames, 7 SIP messages (0 broken), 1 call, 0 duplicates dropped, 0 TLS flows not read (encrypted), T"
	tests := []struct {
		name       string
		args       []string
		code       int
		stderr     []string
		stdoutHas  string // a line stdout must contain ("" for none)
		stdoutNone bool   // stdout must be empty
	}{
		{
			name:   "missing file",
			args:   []string{"calls", "missing.pcap"},
			code:   exitError,
			stderr: []string{"sipflow: missing.pcap: no such file or directory", noFiles},
		},
		{
			name:   "text file",
			args:   []string{"calls", notCapture},
			code:   exitError,
			stderr: []string{"sipflow: " + notCapture + ": unknown input: neither a capture (pcap, pcapng) nor a text log holding SIP messages", noFiles},
		},
		{
			name:   "empty file",
			args:   []string{"calls", empty},
			code:   exitError,
			stderr: []string{"sipflow: " + empty + ": unknown input: neither a capture (pcap, pcapng) nor a text log holding SIP messages", noFiles},
		},
		{
			name:      "missing and good file",
			args:      []string{"calls", "missing.pcap", "basic-call.pcap"},
			code:      exitError,
			stderr:    []string{"sipflow: missing.pcap: no such file or directory", basic},
			stdoutHas: "1 2026-11-22 15:48:30.082 INVITE alice bob    200 completed   4.585s    1    7",
		},
		{
			name:      "good file and text file, json",
			args:      []string{"calls", "--json", "basic-call.pcap", notCapture},
			code:      exitError,
			stderr:    []string{"sipflow: " + notCapture + ": unknown input: neither a capture (pcap, pcapng) nor a text log holding SIP messages", basic},
			stdoutHas: `"call_id":"1-22325@10.99.0.1"`,
		},
		{
			name: "truncated",
			args: []string{"calls", "truncated.pcap"},
			code: exitOK,
			stderr: []string{
				"sipflow: warning: truncated.pcap#120: pcap: file truncated: record 120 at offset 37195 is cut at offset 37241",
				"sipflow: 1 file, 119 frames, 5 SIP messages (0 broken), 1 call, 0 duplicates dropped, 0 TLS flows not read (encrypted), T",
			},
			stdoutHas: "1 2026-11-22 15:48:30.082 INVITE alice bob    200 answered   0.574s    1    5",
		},
		{
			name:      "quiet truncated",
			args:      []string{"calls", "-q", "truncated.pcap"},
			code:      exitOK,
			stdoutHas: "1 2026-11-22 15:48:30.082 INVITE alice bob    200 answered   0.574s    1    5",
		},
		{
			name:       "flow without --call",
			args:       []string{"flow", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: --call is required"},
			stdoutNone: true,
		},
		{
			name:       "show without --call",
			args:       []string{"show", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: --call is required"},
			stdoutNone: true,
		},
		{
			name:       "no input file",
			args:       []string{"calls"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: no input file given"},
			stdoutNone: true,
		},
		{
			name:       "unknown flag",
			args:       []string{"calls", "--bogus", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: unknown flag: --bogus"},
			stdoutNone: true,
		},
		{
			name:       "unknown command",
			args:       []string{"bogus", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{`sipflow: usage: unknown command "bogus"`},
			stdoutNone: true,
		},
		{
			name:       "bad --width",
			args:       []string{"flow", "--call", "1", "--width", "wide", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{`sipflow: usage: invalid argument "wide" for "--width" flag: strconv.ParseInt: parsing "wide": invalid syntax`},
			stdoutNone: true,
		},
		{
			name:       "bad --tz",
			args:       []string{"flow", "--call", "1", "--tz", "Mars/Olympus", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{`sipflow: usage: --tz "Mars/Olympus": unknown time zone Mars/Olympus`},
			stdoutNone: true,
		},
		{
			name:       "--call 99",
			args:       []string{"flow", "--call", "99", "basic-call.pcap"},
			code:       exitError,
			stderr:     []string{`sipflow: no such call: "99" matches no index or Call-ID (1 calls)`},
			stdoutNone: true,
		},
		{
			name:       "--call of a missing file",
			args:       []string{"flow", "--call", "1", "missing.pcap"},
			code:       exitError,
			stderr:     []string{"sipflow: missing.pcap: no such file or directory", `sipflow: no such call: "1" matches no index or Call-ID (0 calls)`},
			stdoutNone: true,
		},
		{
			name:       "ambiguous Call-ID prefix",
			args:       []string{"flow", "--call", "1-22", "failures.pcap"},
			code:       exitError,
			stderr:     []string{`sipflow: no such call: "1-22" is a prefix of 5 Call-IDs; give more of it`},
			stdoutNone: true,
		},
		{
			name:      "unique Call-ID prefix",
			args:      []string{"flow", "--call", "1-2271", "failures.pcap"},
			code:      exitOK,
			stderr:    []string{"sipflow: 1 file, 33 frames, 29 SIP messages (0 broken), 5 calls, 0 duplicates dropped, 0 TLS flows not read (encrypted), T"},
			stdoutHas: "Call 4: INVITE \"Alice\" alice -> bob",
		},
		{
			name:      "whole Call-ID",
			args:      []string{"show", "--call", "1-22753@10.99.0.1", "--message", "2", "failures.pcap"},
			code:      exitOK,
			stderr:    []string{"sipflow: 1 file, 33 frames, 29 SIP messages (0 broken), 5 calls, 0 duplicates dropped, 0 TLS flows not read (encrypted), T"},
			stdoutHas: "SIP/2.0 401 Unauthorized",
		},
		{
			name:       "show --message 999",
			args:       []string{"show", "--call", "1", "--message", "999", "basic-call.pcap"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: --message 999: call 1 has 7 messages"},
			stdoutNone: true,
		},
		{
			name:       "show --message -1",
			args:       []string{"show", "--call", "5", "--message", "-1", "failures.pcap"},
			code:       exitUsage,
			stderr:     []string{"sipflow: usage: --message -1: call 5 has 10 messages"},
			stdoutNone: true,
		},
		{
			name:       "missing --hosts file",
			args:       []string{"flow", "--call", "1", "--hosts", "no-hosts.txt", "basic-call.pcap"},
			code:       exitError,
			stderr:     []string{"sipflow: open no-hosts.txt: no such file or directory"},
			stdoutNone: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			if got, want := strings.Join(maskTime(r.stderr), "\n"), strings.Join(tc.stderr, "\n"); got != want {
				t.Errorf("stderr:\n%s\nwant:\n%s", got, want)
			}
			if tc.stdoutNone && r.stdout != "" {
				t.Errorf("stdout not empty:\n%s", r.stdout)
			}
			if tc.stdoutHas != "" && !strings.Contains(r.stdout, tc.stdoutHas) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoutHas, r.stdout)
			}
		})
	}
}

// TestInterrupted: Ctrl-C (a cancelled context) ends with the shell's
// code 130 and says so, whether it came before or during the reading.
func TestInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := execute(ctx, []string{"calls", fixture("basic-call.pcap"), fixture("failures.pcap")}, &out, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
