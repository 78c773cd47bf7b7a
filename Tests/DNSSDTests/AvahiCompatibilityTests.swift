import DNSSD
import Testing

/// Golden vectors printed by avahi-common 0.8 itself (Debian 12, libavahi-common3
/// 0.8-10+deb12u1): `avahi_escape_label` for random UTF-8 labels and
/// `avahi_string_list_to_string` for random valid TXT records, the list built so that it
/// prints the way avahi-browse prints a record received in the given wire order.
///
/// They were taken from a run of 6,000 random vectors that all matched `AvahiEscaping`.
@Suite struct AvahiCompatibilityTests {
    /// (label bytes in hex, what avahi_escape_label printed)
    static let labels: [(String, String)] = [
        ("f2b385afdfa8e38c8179c9866c5c06", #"\242\179\133\175\223\168\227\140\129y\201\134l\\\006"#),
        ("60cea0f19ca6a15cf198af90ef8a925d", #"\096\206\160\241\156\166\161\\\241\152\175\144\239\138\146\093"#),
        ("4d5cc6b3", #"M\\\198\179"#),
        ("7b2e3e", #"\123\.\062"#),
        ("30e7a68cc5a6ee91a41c60ef9182e891be01", #"0\231\166\140\197\166\238\145\164\028\096\239\145\130\232\145\190\001"#),
        ("78", #"x"#),
        ("eeb2aae69cabeeaeb5585378", #"\238\178\170\230\156\171\238\174\181XSx"#),
        ("e49e8e417ae5b28fee82bc0660", #"\228\158\142Az\229\178\143\238\130\188\006\096"#),
        ("efb4adc49eefa38d", #"\239\180\173\196\158\239\163\141"#),
        ("f0afa99f54f2928d81", #"\240\175\169\159T\242\146\141\129"#),
        ("f09e8c80ee91b6e382a670c8ab", #"\240\158\140\128\238\145\182\227\130\166p\200\171"#),
        ("e585bce9bfa1e49c86e6968e", #"\229\133\188\233\191\161\228\156\134\230\150\142"#),
    ]

    /// (TXT strings in wire order, hex, comma-separated; what avahi_string_list_to_string printed)
    static let records: [(String, String)] = [
        ("22326d2e3b7e79233d40c50114c3ef,4c37353dbbcdd267bc41,764a3dbd",
         #""vJ=\189" "L75=\187\205\210g\188A" "\"2m.;~y#=@\197\001\020\195\239""#),
        ("2d4e642261263d56c34c2d36a760,25754869", #""%uHi" "-Nd\"a&=V\195L-6\167`""#),
        ("2b242f5047,272365224c213d3287fa46c4c0866262c3f0e45a45e5ce9b95ac65",
         #""'#e\"L!=2\135\250F\196\192\134bb\195\240\228ZE\229\206\155\149\172e" "+$/PG""#),
        ("3a546c3d,316c72663d42180f5e0241b176e42af79c922286,26655a737d672f3dbf15690d8590",
         #""&eZs}g/=\191\021i\013\133\144" "1lrf=B\024\015^\002A\177v\228*\247\156\146\"\134" ":Tl=""#),
        ("74455d3660,322c3c507432673d397635,5c3f702f3d00dec7f98663",
         #""\\?p/=\000\222\199\249\134c" "2,<Pt2g=9v5" "tE]6`""#),
        ("5744706f51,274a377e5c,43702c6f5621262a3d1c,613d4484515dc994f3684b96a779e7a09c",
         #""a=D\132Q]\201\148\243hK\150\167y\231\160\156" "Cp,oV!&*=\028" "'J7~\\" "WDpoQ""#),
        ("6e,39215d3dfae80b19c03c593cf3,225a2c6d,56423a7e403dad6b",
         #""VB:~@=\173k" "\"Z,m" "9!]=\250\232\011\025\192<Y<\243" "n""#),
        ("2d22422b6a3d390ddbced29d25ee32,64,287878233d10c6a3792bebf1",
         #""(xx#=\016\198\163y+\235\241" "d" "-\"B+j=9\013\219\206\210\157%\2382""#),
    ]

    private static func bytes(hex: some StringProtocol) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap {
            UInt8(String(decoding: digits[$0...($0 + 1)], as: UTF8.self), radix: 16)
        }
    }

    @Test(arguments: labels)
    func labelIsEscapedExactlyAsAvahiEscapesIt(hex: String, avahi: String) throws {
        let raw = Self.bytes(hex: hex)
        let label = String(decoding: raw, as: UTF8.self)
        #expect(Array(label.utf8) == raw)  // the vectors are valid UTF-8
        #expect(AvahiEscaping.escapeLabel(label) == avahi)
        #expect(try AvahiEscaping.unescapeLabel(avahi) == raw)
    }

    @Test(arguments: records)
    func txtRecordIsQuotedExactlyAsAvahiPrintsIt(hex: String, avahi: String) throws {
        let strings = hex.split(separator: ",").map { Self.bytes(hex: $0) }
        let record = try TXTRecord(entries: strings.map { try TXTEntry(string: $0) })
        #expect(AvahiEscaping.quoteTXT(record) == avahi)
        #expect(try AvahiEscaping.unquoteTXT(avahi) == strings)
    }
}
