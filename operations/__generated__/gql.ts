/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query ClientDashboard {\n  me {\n    id\n    name\n    email\n    role\n    clientProfile {\n      fitnessLevel\n      healthClearance\n    }\n    activePrograms {\n      id\n      name\n      status\n      startDate\n      endDate\n      durationWeeks\n      trainer {\n        id\n        name\n      }\n      workoutPlan {\n        name\n        sessionsPerWeek\n      }\n      adherence {\n        completedSessions\n        plannedSessions\n        rate\n      }\n    }\n    upcomingBookings(first: 5) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      trainer {\n        id\n        name\n      }\n    }\n    progress {\n      latestWeightKg\n      weightChange30dKg\n      latestBodyFatPercentage\n      workoutsThisMonth\n      currentStreakWeeks\n      totalWorkouts\n      lastWorkoutDate\n    }\n    achievements(first: 5) {\n      id\n      type\n      title\n      badgeIcon\n      earnedAt\n    }\n    unreadNotificationCount\n  }\n}": typeof types.ClientDashboardDocument,
    "query TrainerDashboard {\n  me {\n    id\n    name\n    role\n    trainerProfile {\n      specializations\n      certifications\n      yearsExperience\n      rating\n    }\n    todaySchedule {\n      id\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    upcomingBookings(first: 10) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    clients {\n      id\n      name\n      clientProfile {\n        fitnessLevel\n      }\n      progress {\n        latestWeightKg\n        weightChange30dKg\n        workoutsThisMonth\n        lastWorkoutDate\n      }\n    }\n    programs(status: ACTIVE) {\n      id\n      name\n      status\n      startDate\n      endDate\n      client {\n        id\n        name\n      }\n    }\n    unreadNotificationCount\n  }\n}": typeof types.TrainerDashboardDocument,
    "mutation Unsubscribe($token: String!) {\n  unsubscribe(token: $token) {\n    kind\n    channels\n  }\n}": typeof types.UnsubscribeDocument,
};
const documents: Documents = {
    "query ClientDashboard {\n  me {\n    id\n    name\n    email\n    role\n    clientProfile {\n      fitnessLevel\n      healthClearance\n    }\n    activePrograms {\n      id\n      name\n      status\n      startDate\n      endDate\n      durationWeeks\n      trainer {\n        id\n        name\n      }\n      workoutPlan {\n        name\n        sessionsPerWeek\n      }\n      adherence {\n        completedSessions\n        plannedSessions\n        rate\n      }\n    }\n    upcomingBookings(first: 5) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      trainer {\n        id\n        name\n      }\n    }\n    progress {\n      latestWeightKg\n      weightChange30dKg\n      latestBodyFatPercentage\n      workoutsThisMonth\n      currentStreakWeeks\n      totalWorkouts\n      lastWorkoutDate\n    }\n    achievements(first: 5) {\n      id\n      type\n      title\n      badgeIcon\n      earnedAt\n    }\n    unreadNotificationCount\n  }\n}": types.ClientDashboardDocument,
    "query TrainerDashboard {\n  me {\n    id\n    name\n    role\n    trainerProfile {\n      specializations\n      certifications\n      yearsExperience\n      rating\n    }\n    todaySchedule {\n      id\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    upcomingBookings(first: 10) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    clients {\n      id\n      name\n      clientProfile {\n        fitnessLevel\n      }\n      progress {\n        latestWeightKg\n        weightChange30dKg\n        workoutsThisMonth\n        lastWorkoutDate\n      }\n    }\n    programs(status: ACTIVE) {\n      id\n      name\n      status\n      startDate\n      endDate\n      client {\n        id\n        name\n      }\n    }\n    unreadNotificationCount\n  }\n}": types.TrainerDashboardDocument,
    "mutation Unsubscribe($token: String!) {\n  unsubscribe(token: $token) {\n    kind\n    channels\n  }\n}": types.UnsubscribeDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query ClientDashboard {\n  me {\n    id\n    name\n    email\n    role\n    clientProfile {\n      fitnessLevel\n      healthClearance\n    }\n    activePrograms {\n      id\n      name\n      status\n      startDate\n      endDate\n      durationWeeks\n      trainer {\n        id\n        name\n      }\n      workoutPlan {\n        name\n        sessionsPerWeek\n      }\n      adherence {\n        completedSessions\n        plannedSessions\n        rate\n      }\n    }\n    upcomingBookings(first: 5) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      trainer {\n        id\n        name\n      }\n    }\n    progress {\n      latestWeightKg\n      weightChange30dKg\n      latestBodyFatPercentage\n      workoutsThisMonth\n      currentStreakWeeks\n      totalWorkouts\n      lastWorkoutDate\n    }\n    achievements(first: 5) {\n      id\n      type\n      title\n      badgeIcon\n      earnedAt\n    }\n    unreadNotificationCount\n  }\n}"): (typeof documents)["query ClientDashboard {\n  me {\n    id\n    name\n    email\n    role\n    clientProfile {\n      fitnessLevel\n      healthClearance\n    }\n    activePrograms {\n      id\n      name\n      status\n      startDate\n      endDate\n      durationWeeks\n      trainer {\n        id\n        name\n      }\n      workoutPlan {\n        name\n        sessionsPerWeek\n      }\n      adherence {\n        completedSessions\n        plannedSessions\n        rate\n      }\n    }\n    upcomingBookings(first: 5) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      trainer {\n        id\n        name\n      }\n    }\n    progress {\n      latestWeightKg\n      weightChange30dKg\n      latestBodyFatPercentage\n      workoutsThisMonth\n      currentStreakWeeks\n      totalWorkouts\n      lastWorkoutDate\n    }\n    achievements(first: 5) {\n      id\n      type\n      title\n      badgeIcon\n      earnedAt\n    }\n    unreadNotificationCount\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query TrainerDashboard {\n  me {\n    id\n    name\n    role\n    trainerProfile {\n      specializations\n      certifications\n      yearsExperience\n      rating\n    }\n    todaySchedule {\n      id\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    upcomingBookings(first: 10) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    clients {\n      id\n      name\n      clientProfile {\n        fitnessLevel\n      }\n      progress {\n        latestWeightKg\n        weightChange30dKg\n        workoutsThisMonth\n        lastWorkoutDate\n      }\n    }\n    programs(status: ACTIVE) {\n      id\n      name\n      status\n      startDate\n      endDate\n      client {\n        id\n        name\n      }\n    }\n    unreadNotificationCount\n  }\n}"): (typeof documents)["query TrainerDashboard {\n  me {\n    id\n    name\n    role\n    trainerProfile {\n      specializations\n      certifications\n      yearsExperience\n      rating\n    }\n    todaySchedule {\n      id\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    upcomingBookings(first: 10) {\n      id\n      date\n      startTime\n      endTime\n      type\n      status\n      client {\n        id\n        name\n      }\n    }\n    clients {\n      id\n      name\n      clientProfile {\n        fitnessLevel\n      }\n      progress {\n        latestWeightKg\n        weightChange30dKg\n        workoutsThisMonth\n        lastWorkoutDate\n      }\n    }\n    programs(status: ACTIVE) {\n      id\n      name\n      status\n      startDate\n      endDate\n      client {\n        id\n        name\n      }\n    }\n    unreadNotificationCount\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Unsubscribe($token: String!) {\n  unsubscribe(token: $token) {\n    kind\n    channels\n  }\n}"): (typeof documents)["mutation Unsubscribe($token: String!) {\n  unsubscribe(token: $token) {\n    kind\n    channels\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;