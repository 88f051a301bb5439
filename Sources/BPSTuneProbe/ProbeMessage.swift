/// The probe's request, echoed by the server with the reply flag set and otherwise unchanged:
/// a 32-byte header, little-endian, then padding up to the message size.
///
///     0  magic "BPSP"        4  length (whole message)   8  run (per phase, random)
///     12 flags              16  sequence number         24  scheduled send time (client's
///                                                            CLOCK_MONOTONIC, ns)
///
/// Flags: bit 0 (``replyFlag``) marks a reply; the other bits are reserved, sent as 0. A
/// server never answers a message with the reply flag, so a datagram spoofed from one server
/// to another (or to itself) is answered once at most instead of bouncing forever.
///
/// The send time travels in the message, so the receiving thread of an open loop needs no
/// state shared with the sending thread, and the round trip is measured from when the request
/// was due, not from when it went out (no coordinated omission). The server reads only the
/// magic, the length and the flags.
package enum ProbeMessage {
  package static let headerSize = 32
  package static let magic: UInt32 = 0x5053_5042  // "BPSP"
  /// Largest message: a UDP datagram's payload over IPv4.
  package static let maximumSize = 65_507
  /// Bit 0 of the flags: this message is a server's reply.
  package static let replyFlag: UInt32 = 1
  /// Byte offset of the flags in the header.
  static let flagsOffset = 12

  /// Writes the header into `buffer` (at least ``headerSize`` bytes).
  @inline(__always)
  package static func write(
    _ buffer: UnsafeMutableRawBufferPointer, length: Int, run: UInt32, sequence: UInt64, sentAt: UInt64,
    flags: UInt32 = 0
  ) {
    buffer.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
    buffer.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 4, as: UInt32.self)
    buffer.storeBytes(of: run.littleEndian, toByteOffset: 8, as: UInt32.self)
    buffer.storeBytes(of: flags.littleEndian, toByteOffset: flagsOffset, as: UInt32.self)
    buffer.storeBytes(of: sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
    buffer.storeBytes(of: sentAt.littleEndian, toByteOffset: 24, as: UInt64.self)
  }

  /// Sets the reply flag of the message in `buffer` (a server's echo), leaving the rest as is.
  @inline(__always)
  package static func markReply(_ buffer: UnsafeMutableRawBufferPointer) {
    let flags = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: flagsOffset, as: UInt32.self))
    buffer.storeBytes(of: (flags | replyFlag).littleEndian, toByteOffset: flagsOffset, as: UInt32.self)
  }

  /// A received header; nil when the bytes are not a probe message.
  package struct Header: Equatable, Sendable {
    package var length: Int
    package var run: UInt32
    package var sequence: UInt64
    package var sentAt: UInt64
    package var flags: UInt32 = 0

    /// The message is a server's reply (``replyFlag``): a server drops it.
    package var isReply: Bool { flags & ProbeMessage.replyFlag != 0 }
  }

  @inline(__always)
  package static func read(_ buffer: UnsafeRawBufferPointer, count: Int) -> Header? {
    guard count >= headerSize,
      UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic
    else { return nil }
    let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    guard length >= headerSize, length <= maximumSize else { return nil }
    return Header(
      length: length,
      run: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
      sequence: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
      sentAt: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
      flags: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: flagsOffset, as: UInt32.self)))
  }
}
