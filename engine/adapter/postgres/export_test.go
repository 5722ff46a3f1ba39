package postgres

import "time"

// SetAnswerWait sets how long Connect waits for a server that does not
// answer, for a test, and returns the previous value.
func SetAnswerWait(d time.Duration) time.Duration {
	old := answerWait
	answerWait = d
	return old
}
