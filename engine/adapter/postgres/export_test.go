package postgres

import "time"

// SetAnswerWait sets how long Connect waits for a server that does not
// answer, for a test, and returns the previous value.
func SetAnswerWait(d time.Duration) time.Duration {
	old := answerWait
	answerWait = d
	return old
}

// Refused is how many times a's Acquire asked the server for a connection
// and was refused for want of room.
func Refused(a *Adapter) int64 { return a.room.refused.Load() }
