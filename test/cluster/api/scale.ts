/**
 * deployments/scale (pkg/registry/apps/deployment/storage/storage.go ScaleREST): an
 * autoscaling/v1 Scale view of the Deployment's replicas. kubectl scale PATCHes it with a JSON
 * merge patch `{"spec":{"replicas":N}}`, or GETs and PUTs it when given --current-replicas or
 * --resource-version (staging/src/k8s.io/kubectl/pkg/scale/scale.go ScaleSimple).
 */
import type { Deployment } from './objects';
import { applyPatch } from './patch';
import { formatLabelSelector } from './selectors';
import { badRequest, conflict, invalid, notFound } from './status';
import type { ObjectStore } from './store';

export interface Scale {
  kind: 'Scale';
  apiVersion: 'autoscaling/v1';
  metadata: { name: string; namespace?: string; uid: string; resourceVersion: string; creationTimestamp: string };
  spec: { replicas: number };
  status: { replicas: number; selector: string };
}

function scaleOf(deploy: Deployment): Scale {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = deploy.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: deploy.spec.replicas },
    status: { replicas: deploy.status?.replicas ?? 0, selector: formatLabelSelector(deploy.spec.selector) },
  };
}

export interface ScaleRequest {
  method: string;
  namespace: string;
  name: string;
  body: unknown;
  contentType: string | undefined;
}

export function serveScale(store: ObjectStore, req: ScaleRequest): Scale {
  const deploy = store.get('Deployment', req.namespace, req.name);
  if (!deploy) throw notFound('deployments', 'apps', req.name);
  const current = scaleOf(deploy);
  if (req.method === 'GET') return current;
  const proposed = (req.method === 'PATCH' ? applyPatch(current, req.body, req.contentType) : req.body) as Partial<Scale>;
  if (!proposed || typeof proposed !== 'object') throw badRequest('the request body is not a Scale');
  const wanted = proposed.metadata?.resourceVersion;
  if (wanted && wanted !== deploy.metadata.resourceVersion) {
    throw conflict('deployments', 'apps', req.name, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const replicas = proposed.spec?.replicas;
  // pkg/apis/autoscaling/validation/validation.go ValidateScale
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw invalid('Scale', req.name, [{ type: 'FieldValueInvalid', field: 'spec.replicas', detail: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be greater than or equal to 0` }]);
  }
  const updated = store.update('Deployment', req.namespace, req.name, (d) => {
    d.spec.replicas = replicas;
  });
  if (!updated) throw notFound('deployments', 'apps', req.name);
  return scaleOf(updated);
}
