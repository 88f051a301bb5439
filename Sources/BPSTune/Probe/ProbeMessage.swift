/// The probe's request, echoed unchanged by the server: a 32-byte header, little-endian, then
/// padding up to the message size.
///
///     0  magic "BPSP"        4  length (whole message)   8  run (per phase, random)
///     12 flags (reserved)   16  sequence number         24  scheduled send time (client's
///                                                            CLOCK_MONOTONIC, ns)
///
/// The send time travels in the message, so the receiving thread of an open loop needs no
/// state shared with the sending thread, and the round trip is measured from when the request
/// was due, not from when it went out (no coordinated omission). The server reads only the
/// magic and the length.
public enum ProbeMessage {
  public static let headerSize = 32
  public static let magic: UInt32 = 0x5053_5042  // "BPSP"
  /// Largest message: a UDP datagram's payload over IPv4.
  public static let maximumSize = 65_507

  /// Writes the header into `buffer` (at least ``headerSize`` bytes).
  @inline(__always)
  public static func write(
    _ buffer: UnsafeMutableRawBufferPointer, length: Int, run: UInt32, sequence: UInt64, sentAt: UInt64
  ) {
    buffer.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
    buffer.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 4, as: UInt32.self)
    buffer.storeBytes(of: run.littleEndian, toByteOffset: 8, as: UInt32.self)
    buffer.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
    buffer.storeBytes(of: sequence.littleEndian, toByteOffset: 16, as: UInt64.self)
    buffer.storeBytes(of: sentAt.littleEndian, toByteOffset: 24, as: UInt64.self)
  }

  /// A received header; nil when the bytes are not a probe message.
  public struct Header: Equatable, Sendable {
    public var length: Int
    public var run: UInt32
    public var sequence: UInt64
    public var sentAt: UInt64
  }

  @inline(__always)
  public static func read(_ buffer: UnsafeRawBufferPointer, count: Int) -> Header? {
    guard count >= headerSize,
      UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic
    else { return nil }
    let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    guard length >= headerSize, length <= maximumSize else { return nil }
    return Header(
      length: length,
      run: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
      sequence: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
      sentAt: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
  }
}
