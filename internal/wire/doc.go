// Package wire is the compact binary form of the messages that cross to
// Drover's agents for every batch of work (the batch ops' requests and
// responses, the op calls on a relay connection): integers as varints,
// strings and lists with their length first. Decoder reads it back; its
// first error sticks, so a message is decoded whole and checked once.
package wire
