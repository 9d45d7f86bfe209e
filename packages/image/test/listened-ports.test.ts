/** The image's ExposedPorts from the ports a server listened on under the trace. */
import type { ExportReport } from '@dit/exporter';
import { listenedPorts, runConfig } from '@dit/image';
import { describe, expect, it } from 'vitest';

type ListeningSocket = NonNullable<ExportReport['trace']>['listening'][number];

/** A report with only what listenedPorts reads: the trace's sockets, and whether it was a server. */
function reportOf(listening: ListeningSocket[], server: boolean): ExportReport {
  const service = server ? { readyMs: 1, probesPassed: 1, stopped: 'signal' as const } : undefined;
  return { trace: { exitCode: 0, durationMs: 1, paths: 0, listening, service } } as unknown as ExportReport;
}

describe('listenedPorts', () => {
  const sockets: ListeningSocket[] = [
    { port: 8443, address: '::', family: 'AF_INET6', pid: 3 },
    { port: 80, address: '0.0.0.0', family: 'AF_INET', pid: 2 },
    { port: 8443, address: '0.0.0.0', family: 'AF_INET', pid: 2 },
  ];

  it("gives a server's ports once each, as tcp, in port order whatever the order listened", () => {
    expect(listenedPorts(reportOf(sockets, true))).toEqual(['80/tcp', '8443/tcp']);
    expect(listenedPorts(reportOf([...sockets].reverse(), true))).toEqual(['80/tcp', '8443/tcp']);
    expect(
      runConfig({ expose: listenedPorts(reportOf(sockets, true)) }, ['/srv'], '/bin').ExposedPorts,
    ).toEqual({
      '80/tcp': {},
      '8443/tcp': {},
    });
  });

  it('gives none for a check command that is not a server, nor without a trace', () => {
    expect(listenedPorts(reportOf(sockets, false))).toEqual([]);
    expect(listenedPorts({ trace: null } as unknown as ExportReport)).toEqual([]);
  });
});
