package agent

import (
	"context"
	"errors"
	"io/fs"

	"github.com/drover-dr/drover/host"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// kinds are the errors a caller tells apart with errors.Is, each sent as
// a gRPC code of its own: the words of an error cross as they are, the
// kind through the code.
var kinds = []struct {
	code codes.Code
	err  error
}{
	{codes.NotFound, fs.ErrNotExist},
	{codes.AlreadyExists, fs.ErrExist},
	{codes.PermissionDenied, fs.ErrPermission},
	{codes.OutOfRange, host.ErrOutsideRoot},
	{codes.FailedPrecondition, host.ErrParentNotFolder},
	{codes.Unimplemented, errors.ErrUnsupported},
	{codes.Canceled, context.Canceled},
	{codes.DeadlineExceeded, context.DeadlineExceeded},
}

func codeOf(err error) codes.Code {
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			return k.code
		}
	}
	return codes.Unknown
}

// toStatus is err as the agent answers it.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codeOf(err), err.Error())
}

// RemoteError is an error the agent reported: its words, and the kind
// errors.Is finds (fs.ErrNotExist, host.ErrOutsideRoot, ...).
type RemoteError struct {
	Message string
	Kind    error
}

func (e *RemoteError) Error() string { return e.Message }
func (e *RemoteError) Unwrap() error { return e.Kind }

// fromCode turns an error the agent reported back into one errors.Is
// understands.
func fromCode(code codes.Code, msg string) error {
	for _, k := range kinds {
		if k.code == code {
			return &RemoteError{Message: msg, Kind: k.err}
		}
	}
	return &RemoteError{Message: msg}
}
