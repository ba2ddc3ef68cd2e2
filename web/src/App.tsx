/** The console's frame: navigation, language switch and the routes of every page. */
import {
  ApiOutlined, AppstoreOutlined, BellOutlined, DashboardOutlined, DatabaseOutlined,
  DeploymentUnitOutlined, LineChartOutlined, TableOutlined, UnorderedListOutlined,
} from "@ant-design/icons";
import { App as AntApp, ConfigProvider, Layout, Menu, Result, Select, Spin } from "antd";
import enUS from "antd/locale/en_US";
import zhCN from "antd/locale/zh_CN";
import dayjs from "dayjs";
import "dayjs/locale/zh-cn";
import { lazy, Suspense, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, Route, Routes, useLocation } from "react-router-dom";
import { currentLanguage, LANGUAGES } from "./i18n";

const DashboardPage = lazy(() => import("./pages/dashboard/DashboardPage"));
const JobListPage = lazy(() => import("./pages/jobs/JobListPage"));
const JobDetailPage = lazy(() => import("./pages/jobs/JobDetailPage"));
const JobWizardPage = lazy(() => import("./pages/jobs/JobWizardPage"));
const BatchCreatePage = lazy(() => import("./pages/jobs/BatchCreatePage"));
const DesignerPage = lazy(() => import("./designer/DesignerPage"));
const PreviewPage = lazy(() => import("./pages/preview/PreviewPage"));
const MonitoringPage = lazy(() => import("./pages/monitoring/MonitoringPage"));
const AlertsPage = lazy(() => import("./pages/alerts/AlertsPage"));
const PluginsPage = lazy(() => import("./pages/plugins/PluginsPage"));
const ConnectionsPage = lazy(() => import("./pages/connections/ConnectionsPage"));

const NAV = [
  { key: "/", icon: <DashboardOutlined />, label: "nav.dashboard" },
  { key: "/jobs", icon: <UnorderedListOutlined />, label: "nav.jobs" },
  { key: "/designer", icon: <DeploymentUnitOutlined />, label: "nav.designer" },
  { key: "/preview", icon: <TableOutlined />, label: "nav.preview" },
  { key: "/monitoring", icon: <LineChartOutlined />, label: "nav.monitoring" },
  { key: "/alerts", icon: <BellOutlined />, label: "nav.alerts" },
  { key: "/connections", icon: <DatabaseOutlined />, label: "nav.connections" },
  { key: "/plugins", icon: <AppstoreOutlined />, label: "nav.plugins" },
];

function selectedKey(pathname: string): string {
  const match = NAV.filter((item) => item.key !== "/" && pathname.startsWith(item.key));
  return match.length ? match[0].key : "/";
}

function NotFound() {
  const { t } = useTranslation();
  return <Result status="404" title="404" subTitle={t("errors.notFound")} />;
}

export default function App() {
  const { t, i18n } = useTranslation();
  const location = useLocation();
  const [collapsed, setCollapsed] = useState(false);
  const language = currentLanguage();

  useEffect(() => {
    dayjs.locale(language === "zh-CN" ? "zh-cn" : "en");
    document.documentElement.lang = language;
  }, [language]);

  return (
    <ConfigProvider locale={language === "zh-CN" ? zhCN : enUS}
      theme={{ token: { colorPrimary: "#1677ff", borderRadius: 6 } }}>
      <AntApp>
        <Layout style={{ minHeight: "100vh" }}>
          <Layout.Sider collapsible collapsed={collapsed} onCollapse={setCollapsed} width={208}>
            <Link to="/" className="fg-brand"><img src="/favicon.svg" alt="" />{!collapsed && t("app.name")}</Link>
            <Menu theme="dark" mode="inline" selectedKeys={[selectedKey(location.pathname)]}
              items={NAV.map((item) => ({ key: item.key, icon: item.icon, label: <Link to={item.key}>{t(item.label)}</Link> }))} />
          </Layout.Sider>
          <Layout>
            <Layout.Header className="fg-header">
              <span style={{ color: "#595959" }}><ApiOutlined /> {t("app.tagline")}</span>
              <Select size="small" value={language} aria-label={t("language")} style={{ width: 120 }}
                data-testid="language-switch"
                onChange={(value) => void i18n.changeLanguage(value)}
                options={LANGUAGES.map((item) => ({ value: item.code, label: item.label }))} />
            </Layout.Header>
            <Layout.Content className="fg-content">
              <Suspense fallback={<Spin style={{ display: "block", margin: "80px auto" }} />}>
                <Routes>
                  <Route path="/" element={<DashboardPage />} />
                  <Route path="/jobs" element={<JobListPage />} />
                  <Route path="/jobs/new" element={<JobWizardPage />} />
                  <Route path="/jobs/batch" element={<BatchCreatePage />} />
                  <Route path="/jobs/:jobId" element={<JobDetailPage />} />
                  <Route path="/designer" element={<DesignerPage />} />
                  <Route path="/designer/:jobId" element={<DesignerPage />} />
                  <Route path="/preview" element={<PreviewPage />} />
                  <Route path="/monitoring" element={<MonitoringPage />} />
                  <Route path="/alerts" element={<AlertsPage />} />
                  <Route path="/plugins" element={<PluginsPage />} />
                  <Route path="/connections" element={<ConnectionsPage />} />
                  <Route path="*" element={<NotFound />} />
                </Routes>
              </Suspense>
            </Layout.Content>
          </Layout>
        </Layout>
      </AntApp>
    </ConfigProvider>
  );
}
