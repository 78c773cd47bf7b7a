// z2z-faults: the fault scenarios of RELIABILITY.md (Tests/Faults), run by Deploy/faults.
import Faults

#if canImport(Glibc)
import Glibc
#endif

exit(await FaultRun.main(Array(CommandLine.arguments.dropFirst())))
