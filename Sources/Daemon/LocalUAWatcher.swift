import DNSSD
import Gateway
import Logging
import SIP
import SIPServer

/// The home leader's checks of its own link's SIP user agents (issue 17): every half second
/// the UAs `LocalUAChecks` names are handed to the SIP service's contact checks (OPTIONS, the
/// same checks as for contacts handed out), and the set of those whose contacts all died goes
/// to the driver, which withdraws them from the DHT until they answer again. A follower names
/// none (the set empties when leadership goes).
struct LocalUAWatcher: Sendable {
    let driver: GatewayDriver
    let sip: SIPServer
    let logger: Logger
    var interval: Duration = .milliseconds(500)

    func run() async {
        var withdrawn: Set<ServiceID> = []
        repeat {
            let contacts = LocalUAChecks.contacts(of: await driver.snapshot().view)
            let health = sip.watch(contacts.values.flatMap { $0 })
            let dead = LocalUAChecks.notAnswering(contacts) { health[$0] ?? .unknown }
            guard dead != withdrawn else { continue }
            for id in dead.subtracting(withdrawn).sorted() {
                logger.notice("SIP user agent stopped answering OPTIONS: withdrawn from the other islands until it answers",
                              metadata: ["service": "\(id)"])
            }
            for id in withdrawn.subtracting(dead).sorted() {
                logger.notice("SIP user agent answers again (or left the link)", metadata: ["service": "\(id)"])
            }
            withdrawn = dead
            await driver.setNotAnswering(dead)
        } while (try? await Task.sleep(for: interval)) != nil
    }
}
