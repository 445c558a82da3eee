import { api } from '../api.ts';
import type { Cluster } from '../types.ts';
import { Badge, LoadedHead, Table, Time, useLoad } from '../ui.tsx';

/** `GET /v1/cluster`: the nodes sharing the store, and who holds which lease (docs/cluster.md). */
export function ClusterPage() {
  const loaded = useLoad(() => api<Cluster>('GET', '/v1/cluster'), []);
  const { data } = loaded;
  return (
    <section>
      <LoadedHead title="Cluster" loaded={loaded} />
      {data ? (
        <>
          <p class="muted">
            This console is served by node <code>{data.node}</code>; the store is {data.store}. Times are the store's clock (now <Time iso={data.now} />).
          </p>
          <h2>Nodes</h2>
          <Table head={['Node', 'Roles', 'State', 'Started', 'Last heartbeat']}>
            {data.nodes.map((node) => (
              <tr key={node.id}>
                <td>
                  <code>{node.id}</code>
                  {node.id === data.node ? <span class="muted"> (this one)</span> : null}
                </td>
                <td>{node.roles.join(', ')}</td>
                <td>{node.alive ? <Badge kind="good">alive</Badge> : <Badge kind="bad">silent</Badge>}</td>
                <td>
                  <Time iso={node.startedAt} />
                </td>
                <td>
                  <Time iso={node.lastHeartbeatAt} />
                </td>
              </tr>
            ))}
          </Table>
          <h2>Leases</h2>
          {data.leases.length === 0 ? (
            <p class="empty">No lease is held: no long connection, poller or purge runs yet.</p>
          ) : (
            <Table head={['Lease', 'Held by', 'Since', 'Until']}>
              {data.leases.map((lease) => (
                <tr key={lease.name}>
                  <td>
                    <code>{lease.name}</code>
                  </td>
                  <td>
                    <code>{lease.holder}</code>
                  </td>
                  <td>
                    <Time iso={lease.acquiredAt} />
                  </td>
                  <td>
                    <Time iso={lease.expiresAt} />
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </>
      ) : null}
    </section>
  );
}
