// Command drover is the command-line interface: one file per command
// (cmd_<verb>.go), each with an XOptions struct that adds its own flags and
// a runX function. Commands load configuration, call the planner and the
// executor, and render what they report; exit codes are decided in one
// place, main, and listed in --help.
package main
