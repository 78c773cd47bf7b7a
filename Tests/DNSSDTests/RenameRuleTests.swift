import DNSSD
import PropertyBased
import Testing

/// Renaming after an mDNS name collision (RFC 6762 §9): every alternative is a valid instance
/// name, differs from the name that collided, and differs from every other attempt.
@Suite struct RenameRuleTests {
    private func name(_ text: String) throws -> InstanceName { try InstanceName(text) }

    @Test func numberedRuleCountsFromTwoLikeAvahi() throws {
        let printer = try name("Lab Printer")
        #expect(RenameRule.numbered.alternative(to: printer, attempt: 1).value == "Lab Printer #2")
        #expect(RenameRule.numbered.alternative(to: printer, attempt: 2).value == "Lab Printer #3")
        #expect(RenameRule.numbered.alternative(to: printer, attempt: 41).value == "Lab Printer #42")
    }

    @Test func suffixRuleNamesTheIslandThenCounts() throws {
        let printer = try name("Lab Printer")
        let rule = RenameRule.suffix("island")
        #expect(rule.alternative(to: printer, attempt: 1).value == "Lab Printer (island)")
        #expect(rule.alternative(to: printer, attempt: 2).value == "Lab Printer (island) #2")
        #expect(rule.alternative(to: printer, attempt: 3).value == "Lab Printer (island) #3")
    }

    @Test func attemptsBelowOneCountAsTheFirst() throws {
        let printer = try name("X")
        #expect(RenameRule.numbered.alternative(to: printer, attempt: 0).value == "X #2")
        #expect(RenameRule.numbered.alternative(to: printer, attempt: -5).value == "X #2")
        #expect(RenameRule.suffix("s").alternative(to: printer, attempt: Int.min).value == "X (s)")
    }

    @Test func renamesAreDerivedFromTheOriginalAndNeverStack() throws {
        // The caller passes the original name each time; "X #2 #3" must never appear.
        let original = try name("X")
        let names = (1...3).map { RenameRule.numbered.alternative(to: original, attempt: $0).value }
        #expect(names == ["X #2", "X #3", "X #4"])
    }

    @Test func longMultiByteNameIsShortenedOnACharacterBoundaryToFit63Bytes() throws {
        let euros = try name(String(repeating: "€", count: 21))  // 63 bytes
        let first = RenameRule.numbered.alternative(to: euros, attempt: 1)
        #expect(first.value == String(repeating: "€", count: 20) + " #2")
        #expect(first.value.utf8.count == 63)
        let tenth = RenameRule.numbered.alternative(to: euros, attempt: 9)
        #expect(tenth.value == String(repeating: "€", count: 19) + " #10")
        let island = RenameRule.suffix("Büro").alternative(to: euros, attempt: 1)
        #expect(island.value == String(repeating: "€", count: 18) + " (Büro)")
    }

    @Test func emojiSequenceIsNeverCutInside() throws {
        let coder = "👩\u{200D}💻"  // one character, 11 bytes
        let original = try name(String(repeating: "a", count: 50) + coder + "bb")
        #expect(original.value.utf8.count == 63)
        let renamed = RenameRule.numbered.alternative(to: original, attempt: 1)
        #expect(renamed.value == String(repeating: "a", count: 50) + " #2")
    }

    @Test func suffixTooLongForAnyOfTheNameFallsBackToTheCounter() throws {
        let printer = try name("Printer")
        let rule = RenameRule.suffix(String(repeating: "s", count: 70))
        #expect(rule.alternative(to: printer, attempt: 1).value == "Printer #2")
        #expect(rule.alternative(to: printer, attempt: 2).value == "Printer #3")
    }

    @Test func suffixWithAControlCharacterFallsBackToTheCounter() throws {
        let rule = RenameRule.suffix("is\nland")
        #expect(rule.alternative(to: try name("Printer"), attempt: 1).value == "Printer #2")
    }

    @Test func nameWhoseFirstCharacterFillsTheLabelBecomesJustTheCounter() throws {
        // "e" with 31 combining accents is one character of 63 bytes: nothing of it fits with " #2".
        let original = try name("e" + String(repeating: "\u{301}", count: 31))
        #expect(original.value.count == 1)
        #expect(RenameRule.numbered.alternative(to: original, attempt: 1).value == "#2")
        #expect(RenameRule.suffix("island").alternative(to: original, attempt: 1).value == "#2")
    }

    @Test func fullLengthNameThatAlreadyEndsInTheTailIsStillRenamed() throws {
        // Shortening "AAA…A #2" (63 bytes) to make room for " #2" would give the same name back.
        let original = try name(String(repeating: "A", count: 60) + " #2")
        let renamed = RenameRule.numbered.alternative(to: original, attempt: 1)
        #expect(renamed.canonical != original.canonical)
        #expect(renamed.value.utf8.count <= 63)
        let island = try name(String(repeating: "B", count: 54) + " (Island)")
        #expect(RenameRule.suffix("island").alternative(to: island, attempt: 1).canonical != island.canonical)
    }

    @Test func originalThatIsExactlyTheSuffixTailIsRenamedFromTheCounter() throws {
        // " (xxx…)" fills all 63 bytes, so no character of the original fits beside it.
        let suffix = String(repeating: "x", count: 60)
        let original = try name(" (\(suffix))")
        let renamed = RenameRule.suffix(suffix).alternative(to: original, attempt: 1)
        #expect(renamed.value == " (" + String(repeating: "x", count: 58) + " #2")
    }

    @Test func hugeAttemptNumbersStillGiveAValidName() throws {
        let printer = try name(String(repeating: "p", count: 63))
        let renamed = RenameRule.numbered.alternative(to: printer, attempt: Int.max)
        #expect(renamed.value == String(repeating: "p", count: 42) + " #9223372036854775808")
        let island = RenameRule.suffix("island").alternative(to: printer, attempt: Int.max)
        #expect(island.value.hasSuffix(" (island) #9223372036854775807"))
        #expect(island.value.utf8.count == 63)
    }

    // MARK: properties

    private static let rule: Generator<RenameRule, Shrink.None<RenameRule>> = Generator { rng in
        let suffixes = ["island", "Island", "Büro 2", "東京", "🏝", "", String(repeating: "x", count: 58), "a\tb", "(x)"]
        let pick = Int.random(in: 0...suffixes.count, using: &rng)
        return pick == suffixes.count ? .numbered : .suffix(suffixes[pick])
    }

    private static let attempt: Generator<Int, Shrink.None<Int>> = Generator { rng in
        Bool.random(using: &rng) ? Int.random(in: 1...20, using: &rng) : Int.random(in: Int.min...Int.max, using: &rng)
    }

    @Test func alternativeIsAlwaysAValidNameOtherThanTheOriginal() async {
        await propertyCheck(count: 2000, input: Self.rule, Generators.renameOriginal, Self.attempt) { rule, original, attempt throws in
            let renamed = rule.alternative(to: original, attempt: attempt)
            let bytes = Array(renamed.value.utf8)
            #expect(try InstanceName(bytes: bytes) == renamed)
            #expect(bytes.count <= InstanceName.maximumBytes)
            #expect(renamed.canonical != original.canonical)
            // The kept part of the original ends on one of its character boundaries.
            let prefixes = original.value.indices.map { String(original.value[..<$0]) } + [original.value]
            #expect(renamed.value.hasPrefix("#") || prefixes.contains { !$0.isEmpty && renamed.value.hasPrefix($0 + " ") })
        }
    }

    @Test func randomNamesWithRandomSuffixesStayValid() async {
        await propertyCheck(count: 1000, input: Self.rule, Generators.instanceName, Self.attempt) { rule, original, attempt throws in
            let renamed = rule.alternative(to: original, attempt: attempt)
            #expect(try InstanceName(bytes: Array(renamed.value.utf8)) == renamed)
            #expect(renamed.canonical != original.canonical)
        }
    }

    @Test func successiveAttemptsNeverRepeatAName() async {
        await propertyCheck(count: 1000, input: Self.rule, Generators.renameOriginal) { rule, original throws in
            let names = (1...25).map { rule.alternative(to: original, attempt: $0).canonical }
            #expect(Set(names).count == names.count)
            #expect(!names.contains(original.canonical))
        }
    }
}
