import { api } from '../api.ts';
import { href } from '../router.ts';
import type { Channel } from '../types.ts';
import { Badge, Empty, LoadedHead, Table, Time, useLoad } from '../ui.tsx';

function connection(channel: Channel) {
  if (channel.connected === null) return <Badge kind="neutral">webhook</Badge>;
  const held = channel.heldBy ? ` (node ${channel.heldBy})` : '';
  return channel.connected ? <Badge kind="good">connected{held}</Badge> : <Badge kind="bad">disconnected{held}</Badge>;
}

/** `GET /v1/channels`: each channel's connection, last event and last error. */
export function ChannelsPage() {
  const loaded = useLoad(() => api<{ data: Channel[] }>('GET', '/v1/channels'), []);
  const { data } = loaded;
  return (
    <section>
      <LoadedHead title="Channels" loaded={loaded} />
      {data && data.data.length === 0 ? <Empty>No channel is configured. Add one under <code>channels:</code> in the config file.</Empty> : null}
      {data && data.data.length > 0 ? (
        <Table head={['Channel', 'Platform', 'Connection', 'Last event', 'Last error']}>
          {data.data.map((channel) => (
            <tr key={channel.id} data-channel={channel.id}>
              <td>
                <a href={href(['events'], { channel: channel.id })}>{channel.id}</a>
              </td>
              <td>{channel.platform}</td>
              <td>{connection(channel)}</td>
              <td>
                <Time iso={channel.lastEventAt} />
              </td>
              <td class="wrap">
                {channel.lastError ? (
                  <span class="error-text">
                    <Time iso={channel.lastError.at} /> <code>{channel.lastError.code}</code> {channel.lastError.message}
                  </span>
                ) : (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
    </section>
  );
}
