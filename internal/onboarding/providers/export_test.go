package providers

import "time"

// SetTimeout shortens v's default timeout, so a test can watch it fire without
// waiting DefaultTimeout.
func SetTimeout(v *Verifier, d time.Duration) { v.timeout = d }
