// Package atomicfile replaces files of this machine whole: a reader, or
// the file after a crash, holds the old content or the new, never a part.
// The temporary file beside the target is created exclusively under a
// random name (.NAME.tmp-RANDOM, mode 0600), so nothing planted beside the
// target can be written through, and a killed writer's leftover is
// recognisable by that prefix.
//
// It is for the files Drover keeps for itself (state, saved plans, run
// records, reports); files on the hosts Drover manages go through package
// host, whose transports may be remote.
package atomicfile
