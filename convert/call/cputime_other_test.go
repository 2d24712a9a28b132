//go:build !unix

package call

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
