// Package spare starts a plugin process before anyone knows which plugin it
// will serve. A drover process and each plugin it starts are the same large
// binary, and each spends most of a short run initialising; a spare started
// as the CLI begins initialising does its own initialisation alongside,
// then waits on an inherited pipe. The first built-in provider the run
// needs takes it over (Take, Hand): the pipe brings the arguments,
// environment and working folder the provider would have been started
// with, followed by whatever the caller adds (the plugin's certificates).
// A spare nobody takes is killed (Release); should its starter end first,
// it reads the end of the pipe and exits.
//
// The package imports only small standard library packages, whose
// initialisation Go runs early, so that a program can start a spare from
// an init function before most of its own initialisation.
package spare
