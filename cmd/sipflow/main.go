// Command sipflow turns SIP/VoIP captures into call-flow reports.
//
// main holds flags and wiring only: every command is run(ctx, opts, stdout,
// stderr) error, and one place maps errors to exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // an input could not be read, or the command failed
	exitUsage = 2 // bad flags or arguments
	// exitInterrupted is the shell's code for a command ended by SIGINT.
	exitInterrupted = 130
)

// errUsage marks errors in how the command was called.
var errUsage = errors.New("usage")

// errInputs says that some inputs could not be read; the others were.
var errInputs = errors.New("some inputs could not be read")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	stopProfiling := startProfiling(os.Stderr)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfiling()
	stop()
	os.Exit(code)
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err() // interrupted between inputs: what was read is shown
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "sipflow: %v\n", err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "sipflow: interrupted")
		return exitInterrupted
	case errors.Is(err, errInputs):
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitError // each failed input was reported as it happened
	default:
		fmt.Fprintf(stderr, "sipflow: %v\n", err)
		return exitError
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "sipflow",
		Short:         "Turn SIP/VoIP captures into call-flow reports",
		Long:          "sipflow reads pcap/pcapng captures (gzip or zstd compressed too), groups SIP messages into calls, and\nlists them, draws their ladders, and shows their messages.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %v", errUsage, err)
	})
	// An unknown command is a usage error (cobra's own error is untyped and
	// would exit 1); with no command at all, print the help.
	root.Args = func(_ *cobra.Command, args []string) error {
		if len(args) > 0 {
			return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	root.AddCommand(newCallsCmd(stdout, stderr), newFlowCmd(stdout, stderr), newShowCmd(stdout, stderr), newReportCmd(stdout, stderr), newRTPCmd(stdout, stderr))
	return root
}

// startProfiling starts the CPU profile (for `go tool pprof`) and the
// execution trace (for `go tool trace`: which goroutine waits for what)
// that the environment variables SIPFLOW_CPUPROFILE and SIPFLOW_TRACE name
// files for; the returned function stops them.
func startProfiling(stderr io.Writer) func() {
	stopProfile := startWriting("SIPFLOW_CPUPROFILE", stderr, pprof.StartCPUProfile, pprof.StopCPUProfile)
	stopTrace := startWriting("SIPFLOW_TRACE", stderr, trace.Start, trace.Stop)
	return func() {
		stopTrace()
		stopProfile()
	}
}

// startWriting runs start on the file the environment variable env names,
// if any, until the returned function is called.
func startWriting(env string, stderr io.Writer, start func(io.Writer) error, stop func()) func() {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = start(f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sipflow: %s: %v\n", env, err)
		return func() {}
	}
	return func() {
		stop()
		f.Close()
	}
}

// needFiles is the Args check of every command that reads captures.
func needFiles(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no input file given", errUsage)
	}
	return nil
}
