import { Registry, type OpenMetricsContentType } from 'prom-client';

export type MetricsFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Record<MetricsFormat, string> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/**
 * OpenMetrics when the scraper accepts it at all (Prometheus lists it first, and sends it only
 * then), else the Prometheus text format: exemplars exist only in OpenMetrics.
 */
export function formatFor(accept: string | undefined): MetricsFormat {
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.split(';').map((p) => p.trim().toLowerCase());
    if (type !== 'application/openmetrics-text') continue;
    const quality = params.find((p) => p.startsWith('q='));
    if (quality === undefined || Number(quality.slice(2)) > 0) return 'openmetrics';
  }
  return 'prometheus';
}

interface Family {
  name: string;
  type: string;
}
type Source = Family & { get(): Promise<Family>; getForPromString?(): Promise<Family> };
type Renderer = Registry<OpenMetricsContentType> & { getMetricsAsString(metric: { get(): Promise<Family> }): Promise<string> };

// Renders only: it never holds a metric.
const renderer = new Registry<OpenMetricsContentType>() as Renderer;
renderer.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);

/**
 * `registry` in OpenMetrics, exemplars included. prom-client can only render a registry whose
 * content type is OpenMetrics, and doing so renames its counters in place (drops `_total` from the
 * metric objects, which then leave the Prometheus text under the wrong name), so each family is
 * rendered from a copy that carries the OpenMetrics family name; the registry and its metrics are
 * left as they are and the Prometheus format of the same registry stays unchanged.
 */
export async function openMetricsText(registry: Registry): Promise<string> {
  const families = await Promise.all(
    (registry.getMetricsAsArray() as unknown as Source[]).map((metric) =>
      renderer.getMetricsAsString({
        get: async () => {
          const family = await (metric.getForPromString?.() ?? metric.get());
          return metric.type === 'counter' ? { ...family, name: family.name.replace(/_total$/, '') } : family;
        },
      }),
    ),
  );
  return `${families.join('\n')}\n# EOF\n`;
}
