package provider

import (
	"bytes"
	"io"
	"sync"
)

// lineLogger sends command output to the engine one line at a time, as the official provider does,
// so that long commands show progress. stdout and stderr are written from two goroutines.
type lineLogger struct {
	logLine func(string)
	mu      sync.Mutex
	streams []*lineStream
}

// stream returns a writer for one output stream, or nil when that stream is not logged.
func (l *lineLogger) stream(logged bool) io.Writer {
	if !logged || l.logLine == nil {
		return nil
	}
	s := &lineStream{logger: l}
	l.streams = append(l.streams, s)
	return s
}

// flush logs what is left after the last newline, once the command has finished.
func (l *lineLogger) flush() {
	for _, s := range l.streams {
		if s.pending.Len() > 0 {
			l.emit(s.pending.String())
			s.pending.Reset()
		}
	}
}

func (l *lineLogger) emit(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logLine(line)
}

type lineStream struct {
	logger  *lineLogger
	pending bytes.Buffer
}

func (s *lineStream) Write(p []byte) (int, error) {
	s.pending.Write(p)
	for {
		i := bytes.IndexByte(s.pending.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(s.pending.Next(i + 1))
		s.logger.emit(line[:i])
	}
}
