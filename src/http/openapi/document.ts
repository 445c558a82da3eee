import { createRequire } from 'node:module';
import fastifySwagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** `security` of a route: the admin token, an API key, or either. */
export const ADMIN_TOKEN = [{ adminToken: [] }];
export const API_KEY = [{ apiKey: [] }];
export const ADMIN_TOKEN_OR_API_KEY = [...ADMIN_TOKEN, ...API_KEY];

/** The routes the document covers (docs/api.md): the management API under /v1 and both send routes. */
function documented(url: string): boolean {
  return url.startsWith('/v1/') || url === '/api/channels/:channelId/messages/send';
}

/**
 * `GET /openapi.json`: an OpenAPI 3.1 document built by @fastify/swagger from the routes as they are
 * registered, their zod schemas turned into JSON Schema. Registered before the routes, whose
 * registration it records. Served without credentials: it describes routes and holds no secrets.
 */
export function registerOpenApi(app: FastifyInstance): void {
  void app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'imgate',
        version,
        description: 'The management API, the send API and pull subscriptions of imgate. Errors: docs/errors.md.',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'The `admin.token` of the configuration.' },
          apiKey: { type: 'http', scheme: 'bearer', description: 'An `apiKeys[].token` of the configuration.' },
          padKey: { type: 'apiKey', in: 'query', name: 'key', description: "A wechat-pad channel's WeChatPadPro key (the `/v1/webhook/…` routes only)." },
        },
      },
    },
    transform: (route) => (documented(route.url) ? jsonSchemaTransform(route) : { schema: { hide: true }, url: route.url }),
    transformObject: jsonSchemaTransformObject,
  });
  void app.register(async (scope) => {
    scope.get('/openapi.json', async () => scope.swagger());
  });
}
